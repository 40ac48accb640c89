"""Helpers for the browser tests (import them as `from e2e_helpers import ...`)."""
import re


def wait_for_app(page, timeout_ms: int = 60000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator, app rendered)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
        " || !document.querySelector(\"[data-testid='stStatusWidget']\").innerText.includes('Running')",
        timeout=timeout_ms)


def current_step(page, timeout_ms=120_000, above=-1) -> int:
    """Wait until the progress bar shows a step above `above`; return it."""
    page.wait_for_function(
        """(above) => {
             const bar = document.querySelector("[data-testid='stProgress']");
             const m = bar && bar.innerText.match(/step ([\\d,]+)/);
             return m && parseInt(m[1].replace(/,/g, '')) > above;
           }""", arg=above, timeout=timeout_ms)
    text = page.locator("[data-testid='stProgress']").inner_text()
    return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))


def start_custom_vae_run(page, minutes: str, latent_dim: str = "2") -> None:
    """On the Train page: the Custom preset, a run of `minutes`, a VAE with a `latent_dim`-D code; press Start."""
    page.locator(".st-key-train_preset").get_by_text("Custom").click()
    wait_for_app(page)
    for key, value in (("train_minutes", minutes), ("train_cfg_vae_latent_dim", latent_dim)):
        field = page.locator(f".st-key-{key} input")
        field.fill(value)
        field.press("Enter")
    wait_for_app(page)
    page.locator(".st-key-train_start button").click()
