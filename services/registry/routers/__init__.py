"""HTTP endpoints of the registry, one module per concept (thin: rules live in the services).

Every route declares the roles it admits (`allow(...)`), checked before the body is
read; scope rules (street, own organization) are the services' and answer 404.
"""
