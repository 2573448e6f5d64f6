"""Media layer: probe, ladder planning, one-decode FFmpeg transcode and CMAF packaging.

Nothing here touches the database or object storage: functions take and return
filesystem paths so that any executor (local worker, remote runner) can call them.
"""
