"""Request and response models of the registry API, one module per concept."""
