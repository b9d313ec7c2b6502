"""CNN explainer core: MNIST, models, training, checkpoints, explanations. Never imports streamlit."""
