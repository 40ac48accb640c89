"""The Diagonal BiLSTM's fast sampler (see sampling.py for the protocol): one cell step per pixel and layer
instead of a pass over the whole image.

In image coordinates the left-to-right LSTM's state at (i, j) comes from the state above, (i-1, j), and the
state before it, (i, j-1); the right-to-left one's from (i-1, j) and (i, j+1), and it reaches layer l+1 a row
late. So, drawing row i in raster order:

- the left-to-right states of row i are computed pixel by pixel as the pixels arrive (each needs only the row
  above, kept, and the pixel before it, just computed);
- the right-to-left states of row i are computed once the row is complete, right to left, for the next row;
- the states just left of column 0 (right of the last column) lie in the skewed image's padding, whose inputs
  are zero whatever the image: one scan of zeros gives them (DiagonalLSTM.states_before_each_row).

The logits are those of the full pass (pixelrnn.py) up to float rounding; tests check both samplers agree.
"""
from __future__ import annotations

import torch


class DiagonalCacheSteps:
    def __init__(self, model, setup):
        self.model, self.s = model, setup
        x, label = setup.x, setup.label
        n, channels, size = len(x), model.config.channels, model.config.image_size
        like = x.new_zeros(n, channels, size, size)
        self.edges = [(layer.forward_lstm.states_before_each_row(like, label),  # per layer: ((h, c), (h, c)),
                       layer.backward_lstm.states_before_each_row(like, label))  # each (N, C, H)
                      for layer in model.lstms]
        zeros = like[:, :, 0]  # (N, C, W)
        self.above = [(zeros, zeros) for _ in model.lstms]  # per layer: row i-1's (left-to-right h, right-to-left h)
        self.row, self.col = 0, 0  # the next pixel whose features are to be computed
        self._start_row()

    def _start_row(self) -> None:
        i = self.row
        n, channels, width = self.above[0][0].shape
        self.before = [(fwd[0][:, :, i], fwd[1][:, :, i]) for fwd, _ in self.edges]  # (h, c) left of column 0
        self.inputs = [self.above[0][0].new_zeros(n, channels, width) for _ in self.model.lstms]  # layer inputs
        self.forward_h = [self.above[0][0].new_zeros(n, channels, width) for _ in self.model.lstms]

    def _features(self, j: int) -> torch.Tensor:
        """The last layer's features (N, C) at (row, j), from the pixels before it; states advance one pixel."""
        m, i, label = self.model, self.row, self.s.label
        top = max(0, i - m.config.first_kernel_size // 2)
        h = m.first(self.s.x[:, :, top:i + 1])[:, :, -1, j]  # (N, C): mask A on the band of rows it reads
        for l, layer in enumerate(m.lstms):
            above_forward, above_backward = self.above[l]  # (N, C, W) each
            self.inputs[l][:, :, j] = h
            forward = layer.forward_lstm.cell(h, label, above_forward[:, :, j], *self.before[l])  # (h, c)
            self.before[l] = forward
            self.forward_h[l][:, :, j] = forward[0]
            h = h + forward[0] + above_backward[:, :, j]  # residual; right-to-left arrives from row i-1
        return h

    def _finish_row(self) -> None:
        """Rest of the row (known pixels), then its right-to-left states, right to left; on to the next row."""
        width = self.above[0][0].shape[2]
        for j in range(self.col, width):
            self._features(j)
        for l, layer in enumerate(self.model.lstms):
            _, (edge_h, edge_c) = self.edges[l]
            state = (edge_h[:, :, self.row], edge_c[:, :, self.row])  # right of the last column
            backward_h = torch.empty_like(self.forward_h[l])
            for j in reversed(range(width)):
                state = layer.backward_lstm.cell(self.inputs[l][:, :, j], self.s.label, self.above[l][1][:, :, j],
                                                 *state)
                backward_h[:, :, j] = state[0]
            self.above[l] = (self.forward_h[l], backward_h)
        self.row, self.col = self.row + 1, 0
        self._start_row()

    def __call__(self, row: int, cols: list[int]):
        while self.row < row:  # rows above are final now (drawn, or known in a completion)
            self._finish_row()
        wanted = set(cols)
        for j in range(self.col, cols[-1] + 1):  # known columns too: the states to their right need them
            features = self._features(j)
            self.col = j + 1
            if j in wanted:
                yield j, self.model.head(features[:, :, None, None])[:, :, 0, 0]  # (N, K)

    def pixel_set(self, row: int, col: int, value: torch.Tensor) -> None:
        pass  # the drawn value is in setup.x, which the next pixel's first convolution reads
