"""A local stand-in for tiktok.com: TikTok's web protocol, defences and faults on loopback.

Start it with ``python -m emulator --port 8900``; see ``emulator/README.md``. Nothing in the service
imports this package: only tests and tools do.
"""
