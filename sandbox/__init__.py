"""Stand-ins for the outside world: the case system (zaaksysteem), the e-forms portal, sample data.

The sandbox imports nothing of the robot (`common`, `tonk_bot`, `bots`): it plays the
municipality's own applications, which know nothing of softbot. Each stand-in runs on
loopback and keeps its own data under `runs/sandbox/`.
"""
