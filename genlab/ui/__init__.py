"""The only Streamlit-aware code: cached loaders, shared widgets and custom components."""
