"""Rehearsal strategies on a shared streaming loop: Finetune, ER-Reservoir, A-GEM, Uniform, OCS.

Paper: Yoon, Madaan, Yang, Hwang, "Online Coreset Selection for Rehearsal-based Continual
Learning", ICLR 2022, https://arxiv.org/abs/2106.01085 (Algorithm 1; official
``core/train_methods_mnist.py``).

The interface mirrors Avalanche's ``SupervisedTemplate`` + plugins, on plain torch:
``strategy.train(task)`` runs ``before_task`` -> for each pass and streamed batch: ``select`` ->
``training_step`` -> ``after_batch`` -> ``after_task``; ``strategy.evaluate(tasks)`` returns
per-task accuracies; ``strategy.buffer`` is the replay memory (:mod:`.buffers`). Subclass and
override a hook to make a new strategy.

Streaming protocol (official code): each task's training set is cut once into streamed batches of
``stream_size`` (100) in a fixed random order, and the stream is replayed ``num_passes`` times
(official ``n_substeps = seq_epochs * stream_size / batch_size = 10``). From each streamed batch
every strategy trains on ``pick_size`` (kappa = 10) samples, plus a replay minibatch of
``replay_batch_size`` (10) from its memory with weight ``replay_weight``. SGD with momentum; the
learning rate is ``lr * lr_decay**t`` for the ``t``-th task (0-based), with a fresh optimizer per
task, continuing from the previous task's weights.

OCS (Algorithm 1): score the streamed batch by minibatch similarity, sample diversity and
coreset affinity to the gradient of the whole memory (:func:`.selection.ocs_scores`), train on the
top-kappa. During the first ``warm_start_iters`` batches of the first pass of each task the pick is
random (official ``r2c_iter = 100``). After the task, the picks of the last pass are the
candidates: a random subset of ``candidate_size`` (1000), then a random class-balanced coreset of
``memory_size // t`` (the official MNIST code ranks candidates by a random permutation here), and
each earlier task's coreset is shrunk to the same size by re-ranking with similarity and
diversity only, class-balanced.

Uniform, as in the official code (``select_type="uniform"`` with ``coreset_base=True``:
``UniformSummarizer`` = ``RandomState.choice`` without replacement): a plain random kappa of every
streamed batch, a plain random ``memory_size // t`` of the candidates as the new coreset and a plain
random subset of each earlier coreset when it shrinks; no class balancing anywhere.
:class:`UniformBalanced` keeps OCS's class-balanced coreset mechanism with random ranks (the
variant this package used to call Uniform), so the two effects can be told apart.

Task-incremental streams (a :class:`~.scenarios.Task` with ``classes``, e.g. a sequence of
different data sets): the logits outside the task's classes are masked to ``-1e10`` in training,
replay (each memory sample with its own task's classes), the OCS gradients and evaluation, as the
official mixture code does with its single masked head (``ResNet.forward(x, task_id)``).

Deviations from the official code:
    * the replay loss is a plain mean cross entropy times ``replay_weight``. The official loss
      divides the mean once more by the replay batch size, so its ``ref_hyp = 10`` with batch 10
      is ``replay_weight = 1.0`` here (imbalanced MNIST: ``ref_hyp = 50`` -> ``5.0``);
    * the official Uniform re-creates ``RandomState(0)`` at every pass, so it picks the same
      positions of each streamed batch in every pass; here the picks are fresh random draws;
    * ER-Reservoir offers every streamed sample once (first pass);
    * A-GEM's memory is the official Uniform memory (random per-task coresets); its reference
      gradient uses up to ``agem_ref_size`` (256) memory samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .buffers import ReplayBuffer, ReservoirSamplingBuffer, TaskCoresetBuffer
from .per_sample import gradient_gram
from .scenarios import Task
from .selection import class_balanced_selection, ocs_scores, select_top_k

__all__ = [
    "AGEM",
    "OCS",
    "ContinualStrategy",
    "CoresetReplay",
    "ERReservoir",
    "Finetune",
    "StepContext",
    "Uniform",
    "UniformBalanced",
    "agem_project",
]

MASKED_LOGIT = -1e10  # logits of classes outside a sample's task (official: -10e10)


def _class_row(classes: Tensor, num_outputs: int, device: torch.device | None = None) -> Tensor:
    """Boolean mask of the outputs in ``classes``. Shape: ``(k,)`` -> ``(num_outputs,)``."""
    row = torch.zeros(num_outputs, dtype=torch.bool, device=device)
    row[classes.to(row.device)] = True
    return row


class _HeadMask(nn.Module):
    """``model`` with the logits outside ``classes`` masked (same parameters, same order).

    Lets the per-sample gradient routes (:func:`.per_sample.gradient_gram`) see a task-incremental
    model as a plain classifier. Shape: ``(B, ...)`` -> ``(B, C)``; ``classes`` ``(k,)`` int.
    """

    def __init__(self, model: nn.Module, classes: Tensor) -> None:
        super().__init__()
        self.model = model
        self.classes = classes

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x)
        return out.masked_fill(~_class_row(self.classes, out.shape[1], out.device), MASKED_LOGIT)


@dataclass
class StepContext:
    """Where the loop is: handed to every per-batch hook.

    Attributes:
        task: the current task.
        pass_idx: 0-based pass over the task's stream.
        batch_idx: 0-based streamed batch within the pass.
        sample_ids: indices of the streamed batch in ``task.x_train``. Shape: ``(stream_size,)``.
        is_last_pass: True in the last pass (coreset candidates are collected there).
    """

    task: Task
    pass_idx: int
    batch_idx: int
    sample_ids: Tensor
    is_last_pass: bool


class ContinualStrategy:
    """Finetune-style base strategy: random ``pick_size`` of each streamed batch, no memory.

    Args:
        model: classifier ``(batch, in_dim) -> (batch, classes)``; trained in place.
        lr, momentum, lr_decay: SGD; the ``t``-th task uses ``lr * lr_decay**t``.
        stream_size: streamed batch size (official 100).
        pick_size: samples trained on per streamed batch (kappa, official 10).
        num_passes: passes over each task's stream (official 10).
        min_steps: a task with fewer than ``min_steps`` streamed batches over ``num_passes``
            passes gets more passes, ``ceil(min_steps / batches)`` (a small data set in a
            stream of large ones); 0 = always ``num_passes`` (official).
        memory_size: replay memory seats (official 200 on MNIST).
        replay_batch_size: replay minibatch per step (official 10).
        replay_weight: weight of the replay loss (official effective 1.0).
        seed: seeds this strategy's own generator (picks, stream order, memory sampling).
    """

    name = "Finetune"

    def __init__(
        self,
        model: nn.Module,
        *,
        lr: float = 0.005,
        momentum: float = 0.8,
        lr_decay: float = 0.75,
        stream_size: int = 100,
        pick_size: int = 10,
        num_passes: int = 10,
        min_steps: int = 0,
        memory_size: int = 200,
        replay_batch_size: int = 10,
        replay_weight: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not 1 <= pick_size <= stream_size:
            raise ValueError(f"need 1 <= pick_size <= stream_size, got {pick_size}, {stream_size}")
        if num_passes < 1:
            raise ValueError(f"num_passes must be at least 1, got {num_passes}")
        self.model = model
        self.lr, self.momentum, self.lr_decay = lr, momentum, lr_decay
        self.stream_size, self.pick_size, self.num_passes = stream_size, pick_size, num_passes
        if min_steps < 0:
            raise ValueError(f"min_steps must be non-negative, got {min_steps}")
        self.min_steps = min_steps
        self.memory_size = memory_size
        self.replay_batch_size, self.replay_weight = replay_batch_size, replay_weight
        self.generator = torch.Generator().manual_seed(int(seed))
        self.buffer: ReplayBuffer | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.tasks_seen = 0
        self.global_step = 0
        self.selected_noise = 0  # noise images among trained-on picks
        self.selected_total = 0
        self.task_classes: dict[int, Tensor] = {}  # task id -> its head's classes (if masked)
        # Called after every training step with (step, steps of this task), 1-based: a runner's
        # hook for mid-task evaluation (not saved in the state).
        self.step_callback: Callable[[int, int], None] | None = None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # --- the loop ----------------------------------------------------------------------------
    def train(self, task: Task | Iterable[tuple[Tensor, Tensor]]) -> None:
        """Learn one task from its stream (all hooks in order).

        Args:
            task: a :class:`~.scenarios.Task`, or any iterable of ``(x, y)`` batches (a
                ``DataLoader``), which is read once into a task with id ``tasks_seen``; the
                strategy then streams it in its own batches of ``stream_size`` (the loader's
                batch size and order do not matter).
        """
        if not isinstance(task, Task):
            task = Task.from_batches(task, task_id=self.tasks_seen)
        if task.classes is not None:
            self.task_classes[task.task_id] = task.classes.clone()
        self.before_task(task)
        n = len(task.y_train)
        stream = torch.randperm(n, generator=self.generator).split(self.stream_size)
        passes = max(self.num_passes, -(-self.min_steps // len(stream)))
        total, done = passes * len(stream), 0
        for p in range(passes):
            for b, ids in enumerate(stream):
                ctx = StepContext(task, p, b, ids, p == passes - 1)
                x = task.x_train[ids].to(self.device)
                y = task.y_train[ids].to(self.device)
                self.model.train()
                pick = self.select(x, y, ctx).cpu()
                self.training_step(x[pick], y[pick], ctx)
                self.after_batch(x, y, pick, ctx)
                self.selected_noise += int(task.is_noise[ids[pick]].sum())
                self.selected_total += len(pick)
                self.global_step += 1
                done += 1
                if self.step_callback is not None:
                    self.step_callback(done, total)
        self.after_task(task)
        self.tasks_seen += 1

    @torch.no_grad()
    def evaluate(
        self, tasks: Sequence[Task | Iterable[tuple[Tensor, Tensor]]], batch_size: int = 2000
    ) -> list[float]:
        """Test accuracy on each task (model in eval mode), in [0, 1].

        Args:
            tasks: :class:`~.scenarios.Task` objects (their test split) or iterables of
                ``(x, y)`` test batches (``DataLoader``), the ``j``-th being task ``j``. A task
                with ``classes`` is scored on its own head (task-incremental).
        """
        self.model.eval()
        accs = []
        for j, task in enumerate(tasks):
            if isinstance(task, Task):
                tid = task.task_id
                xs, ys = task.x_test.split(batch_size), task.y_test.split(batch_size)
                batches: Iterable = zip(xs, ys)
                # the task's own head, registered or not (a later task is scored before training)
                model = self.model if task.classes is None else _HeadMask(self.model, task.classes)
            else:
                tid, batches = j, task
                model = self.head(tid)
            correct = total = 0
            for xb, yb in batches:
                yb = torch.as_tensor(yb).long()
                pred = model(xb.to(self.device)).argmax(1).cpu()
                correct += int((pred == yb).sum())
                total += len(yb)
            if total == 0:
                raise ValueError(f"task {tid} has no test samples to evaluate")
            accs.append(correct / total)
        return accs

    # --- task heads ---------------------------------------------------------------------------
    def allowed_classes(self, task_ids: Tensor | int, num_outputs: int) -> Tensor | None:
        """Boolean mask of the logits each sample may use, or None (no masked task).

        Shape: ``task_ids`` int or ``(B,)`` -> ``(num_outputs,)`` or ``(B, num_outputs)``.
        """
        if not self.task_classes:
            return None
        ids = torch.as_tensor(task_ids).long()
        rows = {}
        for t in ids.unique().tolist():
            known = t in self.task_classes
            rows[t] = (
                _class_row(self.task_classes[t], num_outputs)
                if known
                else torch.ones(num_outputs, dtype=torch.bool)
            )
        if ids.ndim == 0:
            return rows[int(ids)].to(self.device)
        table = torch.stack([rows[t] for t in ids.tolist()])
        return table.to(self.device)

    def logits(self, x: Tensor, task_ids: Tensor | int) -> Tensor:
        """Model outputs with every sample's logits outside its task's classes masked.

        Shape: x ``(B, ...)``, task_ids int or ``(B,)`` -> ``(B, C)``.
        """
        out = self.model(x)
        allowed = self.allowed_classes(task_ids, out.shape[1])
        return out if allowed is None else out.masked_fill(~allowed, MASKED_LOGIT)

    def head(self, task_id: int) -> nn.Module:
        """The model as task ``task_id`` sees it (logits outside its classes masked), for the
        per-sample gradient routes; the model itself when the task has no ``classes``."""
        if task_id not in self.task_classes:
            return self.model
        return _HeadMask(self.model, self.task_classes[task_id])

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue at a task boundary (model, memory, RNG states)."""
        return {
            "model": self.model.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),  # dropout masks use the global generator
            "counters": [
                self.tasks_seen,
                self.global_step,
                self.selected_noise,
                self.selected_total,
            ],
            "buffer": self.buffer.state_dict() if self.buffer is not None else {},
            "task_classes": {str(t): c for t, c in self.task_classes.items()},
        }

    def load_state_dict(self, state: dict) -> None:
        """Inverse of :meth:`state_dict` (the optimizer is rebuilt by :meth:`before_task`)."""
        self.model.load_state_dict(state["model"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.tasks_seen, self.global_step, self.selected_noise, self.selected_total = (
            int(v) for v in state["counters"]
        )
        if self.buffer is not None:
            self.buffer.load_state_dict(state["buffer"])
        self.task_classes = {int(t): c for t, c in state.get("task_classes", {}).items()}

    # --- hooks -------------------------------------------------------------------------------
    def before_task(self, task: Task) -> None:
        """New SGD optimizer with the decayed learning rate ``lr * lr_decay**t``."""
        lr = self.lr * self.lr_decay**self.tasks_seen
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=self.momentum)

    def select(self, x: Tensor, y: Tensor, ctx: StepContext) -> Tensor:
        """Indices of the samples to train on. Default: ``pick_size`` at random.

        Shape: x ``(B, in_dim)``, y ``(B,)`` -> ``(pick_size,)``.
        """
        return torch.randperm(len(y), generator=self.generator)[: self.pick_size]

    def replay_batch(self) -> tuple[Tensor, Tensor, Tensor] | None:
        """A replay minibatch ``(x, y, task_ids)`` from :attr:`buffer`, or None when there is
        nothing to replay."""
        if self.buffer is None or len(self.buffer) == 0 or self.replay_weight == 0:
            return None
        idx = self.buffer.sample_indices(self.replay_batch_size, self.generator)
        b = self.buffer
        return b.x[idx].to(self.device), b.y[idx].to(self.device), b.task_ids[idx]

    def training_step(self, x: Tensor, y: Tensor, ctx: StepContext) -> None:
        """One SGD step on ``CE(picked) + replay_weight * CE(replay)``."""
        assert self.optimizer is not None
        loss = F.cross_entropy(self.logits(x, ctx.task.task_id), y)
        replay = self.replay_batch()
        if replay is not None:
            xr, yr, tr = replay
            loss = loss + self.replay_weight * F.cross_entropy(self.logits(xr, tr), yr)
        self._check_finite(loss, ctx)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def after_batch(self, x: Tensor, y: Tensor, pick: Tensor, ctx: StepContext) -> None:
        """Called after each step with the whole streamed batch and the picked indices."""

    def after_task(self, task: Task) -> None:
        """Called once the task's stream is done (memory updates go here)."""

    def _check_finite(self, loss: Tensor, ctx: StepContext) -> None:
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"{self.name}: non-finite loss at task {ctx.task.task_id}, pass {ctx.pass_idx}, "
                f"batch {ctx.batch_idx}"
            )


class Finetune(ContinualStrategy):
    """Plain sequential training, no memory (the lower bound)."""

    name = "Finetune"


class ERReservoir(ContinualStrategy):
    """Experience replay with a reservoir-sampled memory of ``memory_size`` over the stream."""

    name = "ER-Reservoir"

    def __init__(self, model: nn.Module, **kw: object) -> None:
        super().__init__(model, **kw)  # type: ignore[arg-type]
        self.buffer = ReservoirSamplingBuffer(self.memory_size)

    def after_batch(self, x: Tensor, y: Tensor, pick: Tensor, ctx: StepContext) -> None:
        if ctx.pass_idx == 0:  # every streamed sample is offered exactly once
            assert isinstance(self.buffer, ReservoirSamplingBuffer)
            self.buffer.add(x.cpu(), y.cpu(), ctx.task.task_id, ctx.sample_ids, self.generator)


class CoresetReplay(ContinualStrategy):
    """Per-task coresets from the last pass's picks, replayed every step.

    With the default random ranking and ``class_balanced=False`` this is the official **Uniform**
    baseline; :class:`OCS` ranks with its scores and balances classes.

    Args:
        candidate_size: last-pass picks kept as candidates (official 1000).
        class_balanced: fill (and shrink) each coreset with equal seats per class
            (:func:`.selection.class_balanced_selection`) in rank order; False takes the first
            ``memory_size // t`` of the ranking.
    """

    name = "Uniform"
    default_class_balanced = False

    def __init__(
        self,
        model: nn.Module,
        *,
        candidate_size: int = 1000,
        class_balanced: bool | None = None,
        **kw: object,
    ) -> None:
        super().__init__(model, **kw)  # type: ignore[arg-type]
        self.candidate_size = candidate_size
        self.class_balanced = (
            self.default_class_balanced if class_balanced is None else bool(class_balanced)
        )
        self.buffer = TaskCoresetBuffer(self.memory_size)
        self._candidates: list[Tensor] = []

    def before_task(self, task: Task) -> None:
        super().before_task(task)
        self._candidates = []

    def after_batch(self, x: Tensor, y: Tensor, pick: Tensor, ctx: StepContext) -> None:
        if ctx.is_last_pass:
            self._candidates.append(ctx.sample_ids[pick])

    def rank_candidates(self, x: Tensor, y: Tensor) -> Tensor:
        """Preference order over the new task's candidates. Default: random permutation."""
        return torch.randperm(len(y), generator=self.generator)

    def rank_memory(self, x: Tensor, y: Tensor, task_id: int) -> Tensor:
        """Preference order over an earlier task's coreset when it shrinks. Default: random."""
        return torch.randperm(len(y), generator=self.generator)

    def _keep(self, y: Tensor, ranking: Tensor, size: int) -> Tensor:
        if self.class_balanced:
            return class_balanced_selection(y, ranking, size)
        return ranking[:size]

    def after_task(self, task: Task) -> None:
        """Add the new task's coreset and shrink the earlier ones to ``memory_size // t``."""
        assert isinstance(self.buffer, TaskCoresetBuffer)
        cand = torch.cat(self._candidates)
        cand = cand[torch.randperm(len(cand), generator=self.generator)[: self.candidate_size]]
        size = self.buffer.per_task_size(self.tasks_seen + 1)
        xc, yc = task.x_train[cand], task.y_train[cand]
        keep = self._keep(yc, self.rank_candidates(xc, yc), size)
        for tid in sorted(self.buffer.coresets):  # shrink earlier tasks' coresets
            xm, ym, _ = self.buffer.task_data(tid)
            self.buffer.shrink(tid, self._keep(ym, self.rank_memory(xm, ym, tid), size))
        self.buffer.set_task(task.task_id, xc[keep], yc[keep], cand[keep])


class Uniform(CoresetReplay):
    """The official Uniform: random kappa per batch, random per-task coresets (no class balance),
    the same replay as OCS."""

    name = "Uniform"
    default_class_balanced = False


class UniformBalanced(CoresetReplay):
    """Random kappa per batch, *class-balanced* random per-task coresets (OCS's memory mechanism
    without OCS's ranking): isolates what class balancing alone buys."""

    name = "Uniform-balanced"
    default_class_balanced = True


def agem_project(g: Tensor, g_ref: Tensor) -> Tensor:
    """A-GEM's projection (Chaudhry et al., 2019, Eq. 11): ``g`` if ``g . g_ref >= 0``, else
    ``g - (g . g_ref / ||g_ref||^2) g_ref`` (then ``g . g_ref = 0``). Shape: ``(P,)``, ``(P,)``."""
    dot = g @ g_ref
    if dot >= 0:
        return g
    return g - dot / (g_ref @ g_ref).clamp_min(1e-12) * g_ref


class AGEM(CoresetReplay):
    """Averaged GEM (Chaudhry et al., 2019): project the step so the memory loss does not rise.

    With ``g`` the gradient on the picked samples and ``g_ref`` on up to ``agem_ref_size``
    memory samples, if ``g . g_ref < 0`` the step uses ``g - (g . g_ref / ||g_ref||^2) g_ref``.
    The memory is the official Uniform's (random per-task coresets); no replay loss term.
    """

    name = "A-GEM"

    def __init__(self, model: nn.Module, *, agem_ref_size: int = 256, **kw: object) -> None:
        super().__init__(model, **kw)  # type: ignore[arg-type]
        self.agem_ref_size = agem_ref_size

    def _flat_grad(self, loss: Tensor) -> Tensor:
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])

    def training_step(self, x: Tensor, y: Tensor, ctx: StepContext) -> None:
        assert self.optimizer is not None and self.buffer is not None
        loss = F.cross_entropy(self.logits(x, ctx.task.task_id), y)
        self._check_finite(loss, ctx)
        g = self._flat_grad(loss)
        if len(self.buffer) > 0:
            idx = self.buffer.sample_indices(self.agem_ref_size, self.generator)
            b = self.buffer
            ref_logits = self.logits(b.x[idx].to(self.device), b.task_ids[idx])
            g_ref = self._flat_grad(F.cross_entropy(ref_logits, b.y[idx].to(self.device)))
            g = agem_project(g, g_ref)
        self.optimizer.zero_grad()
        pos = 0
        for p in self.model.parameters():
            if p.requires_grad:
                p.grad = g[pos : pos + p.numel()].view_as(p).clone()
                pos += p.numel()
        self.optimizer.step()


class OCS(CoresetReplay):
    """Online Coreset Selection (Algorithm 1).

    Args:
        tau: weight of coreset affinity (Eq. 7; official MNIST 1000).
        warm_start_iters: random picks for this many batches of the first pass of every task
            (official ``r2c_iter = 100``).
        grad_method: ``"auto"``, ``"linear"`` or ``"vmap"`` (:func:`.per_sample.gradient_gram`).
        **kw: :class:`CoresetReplay` / :class:`ContinualStrategy` arguments.
    """

    name = "OCS"
    default_class_balanced = True

    def __init__(
        self,
        model: nn.Module,
        *,
        tau: float = 1000.0,
        warm_start_iters: int = 100,
        grad_method: str = "auto",
        **kw: object,
    ) -> None:
        super().__init__(model, **kw)  # type: ignore[arg-type]
        self.tau, self.warm_start_iters, self.grad_method = tau, warm_start_iters, grad_method
        self.last_scores = None

    def memory_gradient(self) -> Tensor | None:
        """Gradient of the mean loss on the whole memory (Eq. 6's ``g_C``), or None.

        Shape: ``(num_params,)`` in ``named_parameters()`` order.
        """
        if self.buffer is None or len(self.buffer) == 0:
            return None
        b = self.buffer
        loss = F.cross_entropy(self.logits(b.x.to(self.device), b.task_ids), b.y.to(self.device))
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)]).detach()

    def scores(
        self, x: Tensor, y: Tensor, reference: Tensor | None, task_id: int | None = None
    ) -> Tensor:
        """Eq. 7 scores of a batch of task ``task_id`` (its head when masked).

        Shape: ``(B, in_dim)``, ``(B,)`` -> ``(B,)``.
        """
        model = self.model if task_id is None else self.head(task_id)
        gram = gradient_gram(model, x, y, reference, method=self.grad_method)  # type: ignore[arg-type]
        self.last_scores = ocs_scores(gram, self.tau)
        return self.last_scores.score

    def select(self, x: Tensor, y: Tensor, ctx: StepContext) -> Tensor:
        if ctx.pass_idx == 0 and ctx.batch_idx < self.warm_start_iters:
            return super().select(x, y, ctx)  # warm start: random pick
        scores = self.scores(x, y, self.memory_gradient(), ctx.task.task_id)
        return select_top_k(scores.cpu(), self.pick_size)

    def rank_memory(self, x: Tensor, y: Tensor, task_id: int) -> Tensor:
        """Shrinking re-ranks by similarity and diversity only (no affinity), as the official
        ``update_coreset``; the model stays in training mode, as there."""
        self.model.train()
        score = self.scores(x.to(self.device), y.to(self.device), None, task_id).cpu()
        return torch.sort(score, descending=True, stable=True).indices
