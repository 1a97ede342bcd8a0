"""Export for TensorFlow Serving: the servable's signatures, versioned SavedModels, warm-up
requests and the server's models.config (see export/README.md)."""
