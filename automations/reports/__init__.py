"""Reports with pandas: leads and activity as frames (frames), the guide's figures and their
types (figures), the monthly and source reports (monthly), their formats, and the live
dashboard's figures (dashboard). May import the shared core and sheets_schema's models.
"""
