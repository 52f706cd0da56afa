// Index of the Layer nodes of stored alignments, applied idempotently before the first alignment is written.
CREATE INDEX layer_run_index IF NOT EXISTS FOR (l:Layer) ON (l.run_id, l.index);
