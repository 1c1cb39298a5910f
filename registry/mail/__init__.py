"""Outgoing mail: what the registry tells people (security notices, notifications).

A mail is a row first (``models.Mail``), written by a service in the transaction of the change
it reports, so a rolled-back change sends nothing and a committed one is never lost; it is sent
after the commit, on the task queue (``delivery``), rendered in the recipient's language, and
retried with back-off until the server takes it. Sending never blocks or fails the request.
"""
