"""Parse stage: pandoc reads each file into its JSON AST (`pandoc`: the runner, its limits and
warnings, the batch and the cache), a single-file book in parts cut at its chapters and joined
into exactly the whole file's AST (`parts`, with `ids` for pandoc's heading identifiers), and
each chapter's HTML is written by pandoc from the transformed AST (`html`)."""
