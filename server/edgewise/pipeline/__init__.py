"""The pipeline behind every door (LSP server, batch refactor, CLI, calibration).

services.py     what every request shares: documents, workspace, model host,
                session and ledger, calibrations, caches
prompts.py      context -> prompt: the completion (FIM/prefix) and action (chat) ones
offload.py      prompt work off the event loop when the tokenizer is remote
postprocess.py  a completion's text: stop rules, multi-line cut, trim, overlap
completion.py   a completion: context -> generation -> post-processing -> report
action.py       an action: plan -> chat prompt -> generation -> verification -> report
"""
