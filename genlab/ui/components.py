"""Small custom components (Streamlit's components v2: inline HTML/CSS/JS, no build step, no CDN).

- `latent_pad`: drag a point over a 2-D latent plane; the decoded image follows at screen frame rate because
  the browser only swaps precomputed decodes (a sprite sheet); the point goes back to Python on release.
- `drawing_canvas`: draw with the mouse, a pen or a finger, white on black; on release Python gets the
  drawing as a small grayscale image.

Both keep all pointer work in the browser and send one value to Python per release, so a drag never waits
for a Streamlit rerun.
"""
from __future__ import annotations

import base64
import hashlib

import streamlit as st
import torch

# ---------------------------------------------------------------------------------------------------------
# Latent pad

_PAD_HTML = """
<div class="genlab-pad">
  <div class="pane">
    <canvas class="plane" aria-label="latent plane: drag to move the code"></canvas>
    <div class="caption axis"></div>
  </div>
  <div class="pane">
    <canvas class="decoded" aria-label="decoded image"></canvas>
    <div class="caption readout"></div>
  </div>
</div>
"""

_PAD_CSS = """
.genlab-pad { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap;
               font-family: var(--st-font, sans-serif); }
.genlab-pad .pane { display: flex; flex-direction: column; gap: 6px; }
.genlab-pad canvas { border: 1px solid var(--st-border-color, #888); border-radius: 4px; }
.genlab-pad canvas.plane { cursor: crosshair; touch-action: none; background: #fff; }
.genlab-pad canvas.decoded { image-rendering: pixelated; background: #000; }
.genlab-pad .caption { font-size: 15px; color: var(--st-text-color, #333); font-variant-numeric: tabular-nums; }
"""

# Frame accounting for tests and benchmarks: window.genlabLatentPad = {frames, drawMs, releases, sheetsLoaded,
# tile, point}: frames counts requestAnimationFrame draws, drawMs the time spent drawing them.
_PAD_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const plane = parentElement.querySelector("canvas.plane");
  const decoded = parentElement.querySelector("canvas.decoded");
  const readout = parentElement.querySelector(".readout");
  parentElement.querySelector(".axis").textContent =
      `drag: horizontal ${data.x_label}, vertical ${data.y_label}, each from ${-data.span} to ${data.span}`;
  const stats = (window.genlabLatentPad = window.genlabLatentPad || { frames: 0, drawMs: 0, releases: 0 });

  const P = data.plane_px, S = data.image_px, n = data.grid_size, tile = data.tile_px, span = data.span;
  const dpr = window.devicePixelRatio || 1;
  for (const [canvas, size] of [[plane, P], [decoded, S]]) {
    if (canvas.width !== Math.round(size * dpr)) {  // resizing clears a canvas: only on first mount
      canvas.width = Math.round(size * dpr); canvas.height = Math.round(size * dpr);
      canvas.style.width = size + "px"; canvas.style.height = size + "px";
    }
  }
  const planeCtx = plane.getContext("2d");
  const imageCtx = decoded.getContext("2d");
  planeCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
  imageCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
  imageCtx.imageSmoothingEnabled = false;

  // Background (axes, prior circles, encoded test images) drawn once into an offscreen canvas.
  const background = document.createElement("canvas");
  background.width = plane.width; background.height = plane.height;
  const bg = background.getContext("2d");
  bg.setTransform(dpr, 0, 0, dpr, 0, 0);
  const toPx = (x, y) => [(x + span) / (2 * span) * P, (span - y) / (2 * span) * P];
  bg.fillStyle = "#ffffff"; bg.fillRect(0, 0, P, P);
  bg.strokeStyle = "#bbbbbb"; bg.lineWidth = 1;
  bg.beginPath(); bg.moveTo(P / 2, 0); bg.lineTo(P / 2, P); bg.moveTo(0, P / 2); bg.lineTo(P, P / 2); bg.stroke();
  bg.setLineDash([4, 4]);
  for (const r of [1, 2]) {
    if (r > span) continue;
    bg.beginPath(); bg.arc(P / 2, P / 2, r / (2 * span) * P, 0, 2 * Math.PI); bg.stroke();
  }
  bg.setLineDash([]);
  for (const [x, y, c] of data.points || []) {
    const [px, py] = toPx(x, y);
    bg.fillStyle = data.colours[c] || "#555"; bg.globalAlpha = 0.55;
    bg.fillRect(px - 1.5, py - 1.5, 3, 3);
  }
  bg.globalAlpha = 1;

  // The sprite sheet is decoded once per sheet; a rerun with the same sheet keeps it (and the point).
  const cache = parentElement.genlabPadCache || (parentElement.genlabPadCache = {});
  let point = cache.sheetId === data.sheet_id && cache.point ? cache.point : data.point.slice();
  if (cache.sheetId !== data.sheet_id) {
    cache.sheetId = data.sheet_id;
    cache.ready = false;
    cache.sheet = new Image();
    cache.sheet.onload = () => {
      cache.ready = true; stats.sheetsLoaded = (stats.sheetsLoaded || 0) + 1;
      if (cache.redraw) cache.redraw();
    };
    cache.sheet.src = "data:image/png;base64," + data.sheet;
  }
  let pending = null, rafId = 0, dragging = false;

  function clamp(v) { return Math.max(-span, Math.min(span, v)); }
  function tileIndex(x, y) {
    const col = Math.round((x + span) / (2 * span) * (n - 1));
    const row = Math.round((span - y) / (2 * span) * (n - 1));
    return [Math.max(0, Math.min(n - 1, row)), Math.max(0, Math.min(n - 1, col))];
  }
  function draw() {
    const t0 = performance.now();
    planeCtx.drawImage(background, 0, 0, P, P);
    const [px, py] = toPx(point[0], point[1]);
    planeCtx.strokeStyle = "#e4572e"; planeCtx.lineWidth = 3;
    planeCtx.beginPath(); planeCtx.arc(px, py, 8, 0, 2 * Math.PI); planeCtx.stroke();
    planeCtx.beginPath(); planeCtx.moveTo(px - 14, py); planeCtx.lineTo(px + 14, py);
    planeCtx.moveTo(px, py - 14); planeCtx.lineTo(px, py + 14); planeCtx.stroke();
    const [row, col] = tileIndex(point[0], point[1]);
    if (cache.ready) imageCtx.drawImage(cache.sheet, col * tile, row * tile, tile, tile, 0, 0, S, S);
    readout.textContent = `z = (${point[0].toFixed(2)}, ${point[1].toFixed(2)})`;
    stats.drawMs += performance.now() - t0;
    stats.tile = [row, col];
    stats.point = point.slice();
    cache.point = point;
  }
  function frame() {
    rafId = 0;
    if (pending) { point = pending; pending = null; }
    stats.frames += 1;
    draw();
  }
  function schedule(event) {
    const rect = plane.getBoundingClientRect();
    const x = clamp(((event.clientX - rect.left) / rect.width) * 2 * span - span);
    const y = clamp(span - ((event.clientY - rect.top) / rect.height) * 2 * span);
    pending = [x, y];
    if (!rafId) rafId = requestAnimationFrame(frame);
  }
  function release(event) {
    if (!dragging) return;
    dragging = false;
    schedule(event);
    if (rafId) { cancelAnimationFrame(rafId); frame(); }
    stats.releases += 1;
    setStateValue("point", { x: point[0], y: point[1] });
  }
  const handlers = {
    pointerdown: (e) => {
      dragging = true;
      try { plane.setPointerCapture(e.pointerId); } catch (err) { /* synthetic events have no capturable pointer */ }
      schedule(e); e.preventDefault();
    },
    pointermove: (e) => { if (dragging) schedule(e); },
    pointerup: release,
    pointercancel: release,
  };
  for (const [name, fn] of Object.entries(handlers)) plane.addEventListener(name, fn);

  cache.redraw = draw;
  draw();

  return () => {
    for (const [name, fn] of Object.entries(handlers)) plane.removeEventListener(name, fn);
    if (rafId) cancelAnimationFrame(rafId);
  };
}
"""

_latent_pad_component = st.components.v2.component("genlab_latent_pad", html=_PAD_HTML, css=_PAD_CSS, js=_PAD_JS)


def latent_pad(sprite_png: bytes, grid_size: int, span: float, *, key: str,
               tile_px: int = 28, points: list[tuple[float, float, int]] | None = None,
               colours: list[str] | None = None, start: tuple[float, float] = (0.0, 0.0),
               axis_labels: tuple[str, str] = ("z[0]", "z[1]"), plane_px: int = 380,
               image_px: int = 280) -> tuple[float, float] | None:
    """A 2-D latent plane to drag on, beside the decoded image under the pointer.

    sprite_png: a PNG of grid_size x grid_size decodes, tile_px square each, row-major with the top row at
    y = +span and the left column at x = -span (genlab.explore.decode_grid + sprite_sheet_png make one).
    The browser draws the nearest tile on every pointer move, so the image follows at screen frame rate.
    points: optional (x, y, class) dots drawn on the plane (for example the encoded test images), coloured
    with colours[class]. start: where the marker begins.

    Returns the point (x, y) where the pointer was last released, or None before the first release.
    """
    data = {
        "sheet": base64.b64encode(sprite_png).decode("ascii"),
        "sheet_id": hashlib.sha1(sprite_png).hexdigest()[:16],
        "grid_size": grid_size, "tile_px": tile_px, "span": span,
        "x_label": axis_labels[0], "y_label": axis_labels[1],
        "points": [[round(float(x), 3), round(float(y), 3), int(c)] for x, y, c in (points or [])],
        "colours": colours or [],
        "point": [float(start[0]), float(start[1])],
        "plane_px": plane_px, "image_px": image_px,
    }
    result = _latent_pad_component(key=key, data=data, on_point_change=lambda: None)
    chosen = result.get("point") if result is not None else None
    if not chosen:
        return None
    return float(chosen["x"]), float(chosen["y"])


# ---------------------------------------------------------------------------------------------------------
# Drawing canvas

_CANVAS_HTML = """
<div class="genlab-draw">
  <canvas class="ink" aria-label="drawing area: draw with the mouse, a pen or a finger"></canvas>
  <div class="row"><button type="button" class="clear">Clear</button><span class="hint"></span></div>
</div>
"""

_CANVAS_CSS = """
.genlab-draw { display: flex; flex-direction: column; gap: 8px; align-items: flex-start; }
.genlab-draw canvas { background: #000; border-radius: 4px; cursor: crosshair; touch-action: none;
                      border: 1px solid var(--st-border-color, #888); }
.genlab-draw .row { display: flex; gap: 12px; align-items: center; }
.genlab-draw button { font: inherit; padding: 4px 14px; border-radius: 6px; cursor: pointer;
                      border: 1px solid var(--st-border-color, #aaa); background: var(--st-background-color, #fff);
                      color: var(--st-text-color, #222); }
.genlab-draw .hint { font-size: 14px; color: var(--st-text-color, #555); opacity: 0.8; }
"""

_CANVAS_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas.ink");
  const clear = parentElement.querySelector("button.clear");
  parentElement.querySelector(".hint").textContent = data.hint || "";
  const size = data.size, scale = data.scale, px = size * scale;
  if (canvas.width !== px) {  // first mount (a rerun keeps the drawing)
    canvas.width = px; canvas.height = px;
    canvas.style.width = data.display_px + "px"; canvas.style.height = data.display_px + "px";
  }
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (!canvas.dataset.started) { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, px, px); canvas.dataset.started = "1"; }
  ctx.strokeStyle = "#fff"; ctx.fillStyle = "#fff";
  ctx.lineWidth = data.stroke * scale; ctx.lineCap = "round"; ctx.lineJoin = "round";
  let last = null;

  function position(e) {
    const rect = canvas.getBoundingClientRect();
    return [(e.clientX - rect.left) / rect.width * px, (e.clientY - rect.top) / rect.height * px];
  }
  function pixels() {  // average each scale x scale block: the drawing as size x size grey levels 0-255
    const rgba = ctx.getImageData(0, 0, px, px).data;
    const out = new Array(size * size).fill(0);
    for (let y = 0; y < px; y++) for (let x = 0; x < px; x++)
      out[Math.floor(y / scale) * size + Math.floor(x / scale)] += rgba[(y * px + x) * 4];
    return out.map((v) => Math.round(v / (scale * scale)));
  }
  const handlers = {
    pointerdown: (e) => {
      last = position(e); canvas.setPointerCapture(e.pointerId);
      ctx.beginPath(); ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fill();
      e.preventDefault();
    },
    pointermove: (e) => {
      if (!last) return;
      const p = position(e);
      ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
      last = p;
    },
    pointerup: () => { if (last) { last = null; setStateValue("drawing", { size: size, pixels: pixels() }); } },
  };
  handlers.pointercancel = handlers.pointerup;
  for (const [name, fn] of Object.entries(handlers)) canvas.addEventListener(name, fn);
  const onClear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, px, px); ctx.fillStyle = "#fff";
                          setStateValue("drawing", null); };
  clear.addEventListener("click", onClear);
  return () => {
    for (const [name, fn] of Object.entries(handlers)) canvas.removeEventListener(name, fn);
    clear.removeEventListener("click", onClear);
  };
}
"""

_drawing_canvas_component = st.components.v2.component(
    "genlab_drawing_canvas", html=_CANVAS_HTML, css=_CANVAS_CSS, js=_CANVAS_JS)


def drawing_canvas(*, key: str, size: int = 28, display_px: int = 280, stroke: float = 2.2,
                   hint: str = "Draw with the mouse, a pen or a finger.") -> torch.Tensor | None:
    """A black square to draw on in white; returns the drawing as a (1, size, size) tensor in [0, 1].

    The browser keeps the strokes at `display_px` pixels on screen and averages them down to size x size
    when the pointer is released (`stroke` is the pen width in output pixels, about MNIST's). Python gets
    one value per stroke, so drawing never waits for a rerun. Returns None before the first stroke and after
    the Clear button. The result is not centred: genlab.explore.fit_drawing centres and scales it like MNIST.
    """
    data = {"size": size, "scale": max(1, round(display_px / size)), "display_px": display_px,
            "stroke": stroke, "hint": hint}
    result = _drawing_canvas_component(key=key, data=data, on_drawing_change=lambda: None)
    drawing = result.get("drawing") if result is not None else None
    if not drawing or drawing.get("size") != size or len(drawing.get("pixels", [])) != size * size:
        return None
    return torch.tensor(drawing["pixels"], dtype=torch.float32).view(1, size, size) / 255  # (1, size, size)
