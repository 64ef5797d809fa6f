"""CRM.COM behaviour pinned down exactly, so that every change to the backend shows."""
