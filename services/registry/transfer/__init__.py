"""Bulk import and streaming export of organizations (CSV and XLSX)."""
