"""The speed kernels the networks and optimizers use: the fastest conv gradient path per machine,
the encoder's 1x1 input layer folded into the next convolution, Adam as one fused kernel."""
