"""The live path: a streaming detector fed in chunks, the terminal view, audio cues, replay."""
