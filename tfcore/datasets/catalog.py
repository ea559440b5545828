"""The course's data files: MNIST, the style-transfer images and the (optional) VGG19 weights.

`register_course_files` adds them to a `Registry`; `tfcore.datasets.registry` calls it once, for the shared
`REGISTRY`. Each entry gives the file's canonical URL (pinned to a commit for files on GitHub), the sha256
of its content and, where known, the hash pooch checks a download against.
"""

__all__ = ["MNIST_URL", "register_course_files"]

MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
"""Where the MNIST ``.gz`` files are downloaded from (the mirror TensorFlow's own tutorials used)."""

_GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"

# (part, file name, md5 of the download, sha256 of the decompressed content, what it holds)
_MNIST_FILES = (
    ("train-images", "train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
     "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", "training images, 60000x28x28"),
    ("train-labels", "train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
     "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", "training labels, 60000"),
    ("t10k-images", "t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
     "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", "test images, 10000x28x28"),
    ("t10k-labels", "t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
     "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", "test labels, 10000"),
)

_NEURAL_STYLE = "jcjohnson/neural-style"
# style images of jcjohnson/neural-style: (stem, commit, sha256, what it shows)
_NEURAL_STYLE_IMAGES = (
    ("starry_night", "3e0b4cfea7518c95ddb3be897848d081ab1e6532",
     "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098", "Van Gogh, The Starry Night (1889)"),
    ("the_scream", "f96c853fbd4f82864a13071273ad3b49e1933e9f",
     "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee", "Munch, The Scream (1893)"),
    ("shipwreck", "87b08a91631fa4b5aec206f41af6bec31b1f445e",
     "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
     "Turner, The Shipwreck of the Minotaur (c.1810)"),
)

_MAX_SAMPLES = ("IBM/MAX-Fast-Neural-Style-Transfer", "c21024f25c969d21eb8076b7d216e21b5d62c151")
# content photos of IBM/MAX-Fast-Neural-Style-Transfer: (stem, sha256, what it shows)
_MAX_SAMPLE_IMAGES = (
    ("bridge", "fe8b8277e67ab955279bf1bc4fcc113ca53e560667a3c290a92978f5b5b54800", "Golden Gate Bridge"),
    ("columns", "fc140ce41b9cbed5d5d43533ecb9f58c5b67b785336bedf0af7b4a9f93340c67", "concrete pillars"),
    ("beach-city", "08dcae1fafb2c55b48f57d3c4d2fc5b3c1b48f706500dfc2776a0efb59724935", "city by a beach"),
    ("flowers", "99f0c9b354de03355b0c7d126b1d93cbfc82443551e2bf5de019d039e1902762", "blue flowers"),
)


def register_course_files(registry):
    """Register every data file of the course in `registry` (a `Registry`), in the course's order."""
    _register_mnist(registry)
    _register_images(registry)
    _register_vgg19(registry)


def _register_mnist(registry):
    for part, filename, md5, sha256, what in _MNIST_FILES:
        registry.register(f"mnist/{part}", filename, MNIST_URL + filename, "mnist", sha256,
                          download_hash=f"md5:{md5}", description=f"MNIST {what} (IDX, gzip; CC BY-SA 3.0)")


def _image(registry, kind, stem, filename, repo, commit, path, sha256, what):
    url = _GITHUB_RAW.format(repo=repo, commit=commit, path=path)
    registry.register(f"{kind}/{stem}", filename, url, f"style/{kind}", sha256,
                      download_hash=f"sha256:{sha256}", description=what)


def _register_images(registry):
    for stem, commit, sha, what in _NEURAL_STYLE_IMAGES:
        _image(registry, "style", stem, f"{stem}.jpg", _NEURAL_STYLE, commit, f"examples/inputs/{stem}.jpg",
               sha, f"{what}; public domain")
    _image(registry, "style", "great_wave_hokusai", "great_wave_hokusai.jpg", "lengstrom/fast-style-transfer",
           "eb413b348902be82efc20c1e347e96c1b9e4a7fd", "examples/style/wave.jpg",
           "54f19686bea5117c0bb68ce4425dbed4efafa3e8d7cafe35f0fae80b8223f4be",
           "Hokusai, The Great Wave off Kanagawa (c.1831); public domain")
    for stem, sha, what in _MAX_SAMPLE_IMAGES:
        _image(registry, "content", stem, f"{stem}.jpg", _MAX_SAMPLES[0], _MAX_SAMPLES[1],
               f"samples/{stem}.jpg", sha, f"photo: {what} (Pexels, CC0)")


def _register_vgg19(registry):
    # VGG19's convolutional part for lesson 08 (optional: the lesson runs on random weights without them).
    # Keras publishes only the md5 of its file (keras.applications.vgg19, file_hash); the neural-style
    # README gives the md5 of the MatConvNet file (the current "new format" version its vgg.py reads).
    registry.register(
        "vgg19/keras-notop", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
        "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg19", None,
        download_hash="md5:253f8cb515780f3b799900260a226db6", md5="253f8cb515780f3b799900260a226db6",
        optional=True, description="VGG19 convolutional weights (Keras, HDF5, 80 MB; Simonyan and Zisserman, "
        "CC BY 4.0)")
    registry.register(
        "vgg19/matconvnet", "imagenet-vgg-verydeep-19.mat",
        "https://www.vlfeat.org/matconvnet/models/imagenet-vgg-verydeep-19.mat", "vgg19", None,
        download_hash="md5:106118b7cf60435e6d8e04f6a6dc3657", md5="106118b7cf60435e6d8e04f6a6dc3657",
        optional=True, description="VGG19 (MatConvNet .mat, 510 MB, what anishathalye/neural-style reads; "
        "Simonyan and Zisserman, CC BY 4.0)")
