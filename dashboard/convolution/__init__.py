"""dashboard.convolution."""
