"""A small Django platform with parlor added, as docs/integrate.md describes: the tests run it
(its token view, its pages with "Chat with X" buttons, its webhook receiver), and the guide quotes
its files."""
