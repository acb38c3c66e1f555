"""The architectures of the DWF paper by name (`registry`): LeNets, VGG, ResNets; their input shapes."""
