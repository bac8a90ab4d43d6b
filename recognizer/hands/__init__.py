"""MediaPipe hand models on onnxruntime: anchors, decoding, ROI geometry, model wrappers.

Private helpers of :mod:`recognizer.locate`; only numpy, OpenCV and onnxruntime.
"""
