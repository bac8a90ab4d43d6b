"""Live ASL fingerspelling recognition engine: frames in, letters out.

Depends on numpy, OpenCV and onnxruntime only (never Qt, never TensorFlow);
importing the package is cheap and loads no model.
"""

from __future__ import annotations

__version__ = "0.1.0"
