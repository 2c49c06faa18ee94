"""The Board's register: listing, changing and summarising actions, its admin, import and export."""
