"""estateops"""
