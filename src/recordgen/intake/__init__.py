"""Taking case files in: claiming them from the inbox, reading them strictly, answering files that are
not case files, the rejected folder, and the watcher.
"""
