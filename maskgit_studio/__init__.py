"""maskgit-studio: generative image editing with MaskGIT."""

__version__ = "0.1.0"
