"""The SSH bastion: users reach devices with their own keys, every session recorded.

``bastion.server`` is the asyncssh server and device relay, ``bastion.recording`` the
recorder and redaction, ``bastion.sessions`` the session records and refusals in the store,
``bastion.policy`` the settings.
"""
