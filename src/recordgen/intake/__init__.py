"""Taking files in: claiming them from the inbox without following a link (claim), reading them
strictly (load), saying what a file that is not a case file seems to be (foreign), and the rejected
folder with its notes (rejected). What runs them, once or watching, is :mod:`recordgen.pipeline`.
"""
