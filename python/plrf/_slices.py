"""The checkpointing loop that simulate's engines share: advance a resumable state one time budget at a
time, save after each slice, until finished or interrupted (Ctrl-C)."""
from __future__ import annotations


def run_in_slices(advance, save, bar) -> bool:
    """advance() -> (interrupted, finished) runs one slice in place; save (or None) is called after each.
    The progress bar is finished on completion and always closed. Returns interrupted."""
    try:
        while True:
            interrupted, finished = advance()
            if save is not None:
                save()
            if interrupted or finished:
                break
        if finished:
            bar.finish()
    finally:
        bar.close()
    return bool(interrupted)
