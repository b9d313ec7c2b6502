"""Serving the dashboard to a lecture hall: several Streamlit processes behind HAProxy."""
