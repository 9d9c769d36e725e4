"""The crawler: Video items, parsing of TikTok payloads, the TikTok web client, pipelines and spiders.

Data flows one way: this package never imports ``bridge``.
"""
