"""The workflow service: the "run at most once" (最多跑一次) approval state machine.

Domain packages `cases`, `reviews`, `definitions`, `calendar` and `sync`; see README.md.
"""
