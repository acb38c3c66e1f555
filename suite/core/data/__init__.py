"""The datasets: the registry by name (`registry`), where they live (`root`), tensors in memory (`bundle`),
which data a trial saw (`fingerprint`), augmentation, and the sources (torchvision, Tiny ImageNet,
synthetic)."""
