"""Playback analytics: QoE beacon ingest and per-view metrics."""
