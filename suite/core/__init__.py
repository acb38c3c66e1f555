"""The building blocks a trial is made of: models, datasets, DWF factorization, metrics, devices.

models.py lists the models (lenet.py, vgg.py, resnet.py; shapes in input_shape.py).
data.py lists the datasets (torchvision_sets.py, tinyimagenet.py, synthetic.py)
and loads them into a bundle.py DataBundle; augment.py, data_root.py and
data_lock.py are the augmentation, where the files live, and the download lock.
dwf.py factorizes and collapses; dwf_composer.py forms a network's products
once per forward (dwf_product.py, eager), dwf_step.py fuses the factors' SGD
step with their gradients (compiled where dwf_compile.py finds a compiler);
metrics.py counts and evaluates; devices.py picks the device.
"""
