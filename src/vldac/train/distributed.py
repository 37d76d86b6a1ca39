"""Data parallelism over K processes: one policy, K ranks, identical weights.

Launched by ``torchrun --nproc-per-node K -m vldac train ...``, which sets RANK, WORLD_SIZE
and LOCAL_RANK in each process. Rank r runs ``env.num_envs`` envs of its own and

    advantages:  GAE per env (local), normalised with the global moments
                     mean = sum_r S_r / sum_r n_r,   var = sum_r Q_r / (sum_r n_r - 1),
                 S_r = sum of rank r's valid advantages, Q_r = its sum of (A - mean)^2;
    update:      every optimiser step g takes the same accumulation group index on every
                 rank; the loss of group g is normalised by the global token and sample
                 counts of that group, and the gradients are summed over ranks:
                     grad = sum_r d/dtheta [ sum_{i in g_r} l_i / sum_r |g_r| ]
                 = the gradient of one process on the union of the groups;
                 clipping and the optimiser step then run on identical gradients, so the
                 weights stay identical on every rank.

Without WORLD_SIZE (or with WORLD_SIZE=1) :func:`setup` returns a world of one: no process
group, every helper is the identity, and training is bit-for-bit the single-process code.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """Where this process sits among the training processes.

    rank / world_size / local_rank: as torchrun sets them (0 / 1 / 0 alone).
    device: where collective tensors live (``cuda`` for NCCL, ``cpu`` for gloo or alone).
    owns_group: this process created the process group (and :func:`destroy` ends it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    owns_group: bool = False

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -- collectives (identities in a world of one) ------------------------------------------
    def all_reduce_sum(self, x: torch.Tensor | float) -> torch.Tensor | float:
        """sum_r x_r; a float comes back as a float, a tensor as a new tensor on x's device."""
        return self._all_reduce(x, dist.ReduceOp.SUM)

    def all_reduce_max(self, x: torch.Tensor | float) -> torch.Tensor | float:
        return self._all_reduce(x, dist.ReduceOp.MAX)

    def _all_reduce(self, x, op):
        if not self.distributed:
            return x
        if isinstance(x, torch.Tensor):
            buf = x.detach().to(self.device, copy=True)
            dist.all_reduce(buf, op=op)
            return buf.to(x.device)
        buf = torch.tensor([float(x)], dtype=torch.float64, device=self.device)
        dist.all_reduce(buf, op=op)
        return float(buf.item())

    def all_gather_object(self, obj: Any) -> list[Any]:
        """[obj of rank 0, ..., obj of rank K-1] on every rank (pickled; small objects)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def broadcast_object(self, obj: Any, src: int = 0) -> Any:
        """Rank ``src``'s ``obj`` on every rank."""
        if not self.distributed:
            return obj
        box = [obj if self.rank == src else None]
        dist.broadcast_object_list(box, src=src)
        return box[0]

    def barrier(self) -> None:
        if self.distributed:  # NCCL: on this rank's GPU, named so no device is guessed
            dist.barrier(device_ids=[self.local_rank] if self.device.type == "cuda" else None)


def setup(model_device: str = "auto") -> World:
    """The world this process trains in, from torchrun's RANK / WORLD_SIZE / LOCAL_RANK.

    With WORLD_SIZE > 1 the process group is created (NCCL when the model goes to CUDA,
    gloo on CPU) unless one exists already, and on CUDA ``torch.cuda.set_device(local_rank)``
    runs first, so the model, its buffers and NCCL's tensors all sit on this rank's GPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return World()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    from vldac.models.loading import resolve_device

    use_cuda = resolve_device(model_device).type == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", rank=rank,
                                world_size=world_size)
        owns = True
    elif dist.get_world_size() != world_size or dist.get_rank() != rank:
        raise RuntimeError(f"a process group of {dist.get_world_size()} exists, but "
                           f"WORLD_SIZE={world_size} RANK={rank}.")
    return World(rank, world_size, local_rank, device, owns)


def destroy(world: World) -> None:
    """End the process group if :func:`setup` created it."""
    if world.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank r's random streams (sampling, dropout, shuffling) after loading:
    distinct per rank, reproducible from (run seed, rank)."""
    return int(np.random.SeedSequence([seed, rank, 0x5EED]).generate_state(1)[0])


# -- gradients --------------------------------------------------------------------------------
def sum_gradients(params: list[torch.nn.Parameter], world: World) -> None:
    """p.grad <- sum_r p.grad_r for every parameter that has a gradient on some rank.

    A rank without a gradient for p (no samples left in this group, or p untouched by its
    loss) contributes zeros; a parameter without a gradient on every rank keeps
    ``grad = None`` everywhere, so the optimiser skips it exactly as a single process would.
    Gradients travel as one flat buffer per dtype.
    """
    if not world.distributed or not params:
        return
    has = torch.tensor([p.grad is not None for p in params], dtype=torch.float32)
    has = world.all_reduce_max(has).bool().tolist()
    live = [p for p, h in zip(params, has, strict=True) if h]
    for p in live:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    by_dtype: dict[torch.dtype, list[torch.nn.Parameter]] = {}
    for p in live:
        by_dtype.setdefault(p.grad.dtype, []).append(p)
    for group in by_dtype.values():
        flat = torch.cat([p.grad.reshape(-1) for p in group]).to(world.device)
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for p in group:
            n = p.grad.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
            offset += n


# -- global moments ---------------------------------------------------------------------------
def masked_moments(x: torch.Tensor, mask: torch.Tensor, world: World) -> tuple[int, float, float]:
    """(n, mean, unbiased var) of ``x[mask]`` over the union of all ranks' entries.

    Two passes in float64 (sums, then squared deviations from the global mean), so K ranks
    give the moments of the concatenated data up to summation order. var is 0 when n < 2.
    """
    picked = x[mask.bool()].double()
    stats = world.all_reduce_sum(torch.stack([picked.sum(), picked.new_tensor(picked.numel())]))
    total, n = float(stats[0]), int(stats[1])
    if n == 0:
        return 0, 0.0, 0.0
    mean = total / n
    sq = float(world.all_reduce_sum((picked - mean).pow(2).sum()))
    return n, mean, (sq / (n - 1) if n > 1 else 0.0)


# -- checks -----------------------------------------------------------------------------------
def weights_digest(tensors: Iterable[torch.Tensor]) -> str:
    """sha256 of the tensors' bytes, in order: equal digests = bit-identical weights."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().contiguous().cpu()
        h.update(str((tuple(t.shape), t.dtype)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def assert_identical(params: list[torch.Tensor], world: World, when: str) -> None:
    """Raise unless every rank holds the same values: per-tensor float64 sums and sums of
    squares, compared by an all-reduce of (x, -x) with MAX (max == min on every entry)."""
    if not world.distributed:
        return
    with torch.no_grad():
        sums = torch.stack([s for p in params for s in (p.double().sum(), p.double().pow(2).sum())])
    both = world.all_reduce_max(torch.cat([sums, -sums]).cpu())
    if not torch.equal(both[: sums.numel()], -both[sums.numel():]):
        raise RuntimeError(f"the ranks' trainable weights differ {when}; every rank must "
                           "load the same model with the same seed.")


# -- launching ----------------------------------------------------------------------------------
def launch_command(processes: int, args: list[str]) -> list[str]:
    """The command that runs ``vldac <args>`` as ``processes`` data-parallel processes on
    this machine: torchrun's module form (no console script needed), or plain
    ``python -m vldac`` for one process."""
    launcher = (["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
                if processes > 1 else [])
    return [sys.executable, *launcher, "-m", "vldac", *args]
