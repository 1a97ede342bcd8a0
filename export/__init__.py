"""SavedModel export of trained autoencoders for TensorFlow Serving (run from the repo root)."""
