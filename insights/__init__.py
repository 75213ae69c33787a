"""What the numbers say: the back office's landing page (the owner's dashboard and the setup
checklist of a new business). Reads scheduling, payments and widgets; writes nothing of theirs."""
