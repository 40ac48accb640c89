"""The ELBO gap: the importance-weighted bound rises with k (Burda et al. 2016), k = 1 being the ELBO."""
import torch

from genlab.explore.latent_space import bound_ladder
from genlab.models.vae import VAE, VAEConfig


def test_the_bound_rises_with_k_from_the_elbo():
    torch.manual_seed(0)
    model = VAE(VAEConfig.tiny(latent_dim=4)).eval()
    image = (torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(1)) > 0.7).float()
    ladder = bound_ladder(model, image, ks=(1, 10, 100, 1000), repeats=16, seed=0)
    means = [ladder[k][0] for k in (1, 10, 100, 1000)]
    assert means[0] < means[1] < means[3]  # a poor q leaves a wide gap that more samples close
    assert ladder[1000][1] < ladder[1][1]  # and the estimate steadies
    assert all(m < 0 for m in means)  # bounds on a log-probability of a binary image
