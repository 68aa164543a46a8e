"""PyTorch's distributed engine, as torchrun starts it: one process per rank, RANK / WORLD_SIZE / LOCAL_RANK
in the environment. gloo on CPU, nccl on CUDA. Outside torchrun every function here is a no-op for one process."""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist


def launched() -> bool:
    """Started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init(device: str | None = None) -> str | None:
    """Join the process group torchrun set up (once); the backend, or None outside torchrun."""
    if not launched():
        return None
    if not dist.is_initialized():
        cuda = torch.cuda.is_available() and device in (None, "cuda")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        # rank 0 alone evaluates and writes while the others wait at a barrier: allow it hours, not minutes
        dist.init_process_group("nccl" if cuda else "gloo", timeout=datetime.timedelta(hours=4))
    return dist.get_backend()


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def device() -> torch.device:
    """This rank's CUDA device under nccl, else the CPU."""
    if active() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def barrier() -> None:
    if active():
        dist.barrier()


def broadcast_flag(flag: bool) -> bool:
    """Rank 0's flag on every rank (e.g. a cancel decided by a callback that only rank 0 runs)."""
    return bool(broadcast_int(int(flag)))


def broadcast_int(value: int) -> int:
    """Rank 0's value on every rank (e.g. its PID, to agree on a temporary file name)."""
    if not active():
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device())
    dist.broadcast(t, src=0)
    return int(t.item())


def shard(n: int) -> range:
    """The contiguous block of range(n) this rank handles."""
    per = -(-n // world_size())
    return range(min(rank() * per, n), min((rank() + 1) * per, n))


def describe() -> dict:
    """What config.json records about the run: world size and backend."""
    return {"world_size": world_size(), "backend": dist.get_backend() if active() else None}


def close() -> None:
    """Leave the process group (at the end of a command run under torchrun)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
