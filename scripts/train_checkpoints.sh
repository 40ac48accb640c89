#!/usr/bin/env bash
# Retrain every shipped checkpoint with the commands recorded in their model cards.
# Usage: bash scripts/train_checkpoints.sh [vae|autoencoders|classifier|dcgan|gans|pixelcnn|autoregressive|diffusion|translation|all]   (run from the repository root, inside .venv)
set -euo pipefail
which="${1:-all}"
py="${PYTHON:-python}"
if [[ "$which" == vae || "$which" == all ]]; then
  $py -m genlab train vae --dataset fashion-mnist --latent-dim 2 --epochs 10 --half --weights-only \
      --title "VAE, 2-D latent" --out checkpoints/fashion-mnist/vae-2d.safetensors
  # 16-D: 384 hidden units (the largest that keeps checkpoints/ under 60 MiB), SiLU, 60 epochs, then 20 at lr 1e-4
  # and 10 at 3e-5: 35 minutes on two threads (OMP_NUM_THREADS=2) of a 2-core CPU
  out=checkpoints/fashion-mnist/vae-16d.safetensors
  OMP_NUM_THREADS=2 $py -m genlab train vae --dataset fashion-mnist --latent-dim 16 --hidden 384 --activation silu \
      --epochs 60 --half --weights-only --title "VAE, 16-D latent" --out $out
  OMP_NUM_THREADS=2 $py -m genlab train vae --dataset fashion-mnist --resume $out --lr 1e-4 --epochs 20 --half \
      --weights-only --title "VAE, 16-D latent" --out $out
  OMP_NUM_THREADS=2 $py -m genlab train vae --dataset fashion-mnist --resume $out --lr 3e-5 --epochs 10 --half \
      --weights-only --title "VAE, 16-D latent" --out $out
  $py -m genlab train vae --dataset digits --latent-dim 2 --epochs 30 --half --weights-only \
      --title "VAE, 2-D latent" --out checkpoints/digits/vae-2d.safetensors
  # Three betas on shapes, so the Factors tab shows the trade-off (one thread each: about 10 minutes alone).
  for beta in 1 4 8; do
    name=$([[ $beta == 1 ]] && echo vae-10d || ([[ $beta == 4 ]] && echo beta-vae-10d || echo beta-vae-10d-b$beta))
    title=$([[ $beta == 1 ]] && echo "VAE (beta 1), 10-D latent" || echo "beta-VAE (beta $beta), 10-D latent")
    OMP_NUM_THREADS=1 $py -m genlab train vae --dataset shapes --latent-dim 10 --beta $beta --epochs 60 \
        --half --weights-only --title "$title" --out checkpoints/shapes/$name.safetensors
  done
fi
if [[ "$which" == autoencoders || "$which" == all ]]; then
  # The plain autoencoder: the 2-D VAE's layers and epochs, without noise or KL (one thread: about 3 and 6 min).
  OMP_NUM_THREADS=1 $py -m genlab train autoencoder --dataset digits --latent-dim 2 --epochs 30 --half --weights-only \
      --title "Autoencoder, 2-D code" --out checkpoints/digits/autoencoder-2d.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train autoencoder --dataset fashion-mnist --latent-dim 2 --epochs 10 --half \
      --weights-only --title "Autoencoder, 2-D code" --out checkpoints/fashion-mnist/autoencoder-2d.safetensors
  # The adversarial autoencoder on digits (half the VAE's fully connected width, to keep checkpoints/ small): a
  # mixture of 10 Gaussians with one part per class (the paper's picture); 8 minutes were 5,819 steps here.
  OMP_NUM_THREADS=1 $py -m genlab train aae --dataset digits --prior mixture --num-classes 10 --hidden 128 \
      --minutes 8 --seed 0 --half --weights-only --title "AAE, 2-D code, a mixture of 10 Gaussians, one per class" \
      --out checkpoints/digits/aae-mixture.safetensors
fi
if [[ "$which" == classifier || "$which" == all ]]; then
  $py -m genlab train classifier --dataset fashion-mnist --epochs 4 --half \
      --title "Classifier for metrics" --out checkpoints/fashion-mnist/classifier.safetensors
  $py -m genlab train classifier --dataset fashion-mnist --epochs 4 --lr 3e-4 --half --weights-only \
      --title "Classifier for metrics" --resume checkpoints/fashion-mnist/classifier.safetensors \
      --out checkpoints/fashion-mnist/classifier.safetensors
  $py -m genlab train classifier --dataset digits --epochs 15 --half --weights-only \
      --title "Classifier for metrics" --out checkpoints/digits/classifier.safetensors
fi
if [[ "$which" == dcgan || "$which" == all ]]; then
  # One thread each (OMP_NUM_THREADS=1) was about 7.6 and 4 CPU-minutes on a shared 2-core machine.
  $py -m genlab train dcgan --dataset fashion-mnist --epochs 4 --batch-size 32 --lr 5e-4 --half --weights-only \
      --title "DCGAN, 64-D latent" --out checkpoints/fashion-mnist/dcgan.safetensors
  $py -m genlab train dcgan --dataset digits --epochs 15 --batch-size 32 --lr 5e-4 --half --weights-only \
      --title "DCGAN, 64-D latent" --out checkpoints/digits/dcgan.safetensors
fi
if [[ "$which" == gans || "$which" == all ]]; then
  # Conditional GAN (projection discriminator): one thread (OMP_NUM_THREADS=1) of a shared 2-core CPU took
  # 2.5 min (digits) and 4.7 min (Fashion-MNIST).
  OMP_NUM_THREADS=1 $py -m genlab train conditional-gan --dataset digits --num-classes 10 --epochs 30 --batch-size 32 \
      --lr 5e-4 --half --weights-only --title "Conditional GAN, 64-D latent" \
      --out checkpoints/digits/conditional-gan.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train conditional-gan --dataset fashion-mnist --num-classes 10 --epochs 8 \
      --batch-size 32 --lr 5e-4 --half --weights-only --title "Conditional GAN, 64-D latent" \
      --out checkpoints/fashion-mnist/conditional-gan.safetensors
  # InfoGAN on digits: about 5 minutes on one thread; seeds 1 and 2 of the same command were measured too.
  OMP_NUM_THREADS=1 $py -m genlab train infogan --dataset digits --epochs 30 --batch-size 64 --seed 0 --half \
      --weights-only --title "InfoGAN, 64-D noise, 10 + 2 codes" --out checkpoints/digits/infogan.safetensors
  # Progressive GAN on Fashion-MNIST: a 12-minute budget on one thread (a faster machine takes more steps).
  OMP_NUM_THREADS=1 $py -m genlab train progan --dataset fashion-mnist --minutes 12 --batch-size 32 --lr 5e-4 \
      --half --weights-only --title "Progressive GAN, 64-D latent" --out checkpoints/fashion-mnist/progan.safetensors
fi
if [[ "$which" == pixelcnn || "$which" == all ]]; then
  # Gated PixelCNN, class-conditional. Fashion-MNIST: each pixel's 256 grey levels from a mixture of 5
  # discretized logistics (PixelCNN++), a 95-minute time budget on one thread (OMP_NUM_THREADS=1) of a shared 2-core
  # CPU (a faster machine trains more steps in the same time; the model card records them).
  OMP_NUM_THREADS=1 $py -m genlab train pixelcnn --dataset fashion-mnist --output logistic --num-classes 10 \
      --minutes 95 --batch-size 32 --lr 2e-3 --half \
      --title "Gated PixelCNN, class-conditional" --out checkpoints/fashion-mnist/pixelcnn.safetensors
  # then 40 minutes more on two threads with a learned 8-channel picture per class (--class-maps 8, the
  # location-dependent conditioning of the Gated PixelCNN paper). The pictures start blank, so the resumed model
  # starts as it was; samples in the class asked for: 28.3% -> 82.8% (of 1,000), 3.083 -> 2.971 bits/dim
  OMP_NUM_THREADS=2 $py -m genlab train pixelcnn --dataset fashion-mnist --class-maps 8 --minutes 40 --lr 1e-3 \
      --half --weights-only --title "Gated PixelCNN, class-conditional" \
      --resume checkpoints/fashion-mnist/pixelcnn.safetensors --out checkpoints/fashion-mnist/pixelcnn.safetensors
  # Digits, binarized once at random (binary-digits): 12 gated layers so a pixel sees 15 rows up; 10 epochs took
  # about 40 minutes on one thread of a shared 2-core CPU.
  OMP_NUM_THREADS=1 $py -m genlab train pixelcnn --dataset binary-digits --output bernoulli --num-classes 10 \
      --layers 12 --epochs 10 --batch-size 32 --lr 1e-3 --half --weights-only \
      --title "Gated PixelCNN, class-conditional" --out checkpoints/digits/pixelcnn.safetensors
  # then 8 more epochs with half the images shown without their label, so that p(x) without a class (which
  # completion uses) learns as much as p(x | y): about 45 more minutes
  OMP_NUM_THREADS=1 $py -m genlab train pixelcnn --dataset binary-digits --label-dropout 0.5 --epochs 8 \
      --batch-size 32 --lr 5e-4 --half --weights-only --title "Gated PixelCNN, class-conditional" \
      --resume checkpoints/digits/pixelcnn.safetensors --out checkpoints/digits/pixelcnn.safetensors
  # and 16 more at lower learning rates (8 at 2.5e-4, 8 at 1.5e-4; 67 minutes): samples in the class asked for
  # 85.2% -> 87.3% (93.6% with guidance w = 1), test NLL 89.59 -> 88.33 nats
  for lr in 2.5e-4 1.5e-4; do
    OMP_NUM_THREADS=1 $py -m genlab train pixelcnn --dataset binary-digits --label-dropout 0.5 --epochs 8 \
        --batch-size 32 --lr $lr --half --weights-only --title "Gated PixelCNN, class-conditional" \
        --resume checkpoints/digits/pixelcnn.safetensors --out checkpoints/digits/pixelcnn.safetensors
  done
  # a plain PixelCNN of the same depth, so the page can put its blind spot beside the gated one (7 minutes)
  OMP_NUM_THREADS=1 $py -m genlab train pixelcnn --dataset binary-digits --variant plain --output bernoulli \
      --layers 12 --epochs 10 --batch-size 32 --half --weights-only --title "Plain PixelCNN (blind spot)" \
      --out checkpoints/digits/pixelcnn-plain.safetensors
fi
if [[ "$which" == autoregressive || "$which" == all ]]; then
  # The rest of the autoregressive lineage on the same binarized digits, for one likelihood table
  # (python -m genlab eval --likelihoods --dataset binary-digits).
  OMP_NUM_THREADS=1 $py -m genlab train nade --dataset binary-digits --epochs 10 --batch-size 32 --half \
      --weights-only --title "NADE" --out checkpoints/digits/nade.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train pixelrnn --dataset binary-digits --variant row --epochs 10 --batch-size 32 \
      --half --weights-only --title "PixelRNN, Row LSTM" --out checkpoints/digits/pixelrnn-row.safetensors
  # the Diagonal BiLSTM trains slowest: a 50-minute budget on one thread
  OMP_NUM_THREADS=1 $py -m genlab train pixelrnn --dataset binary-digits --variant diagonal --minutes 50 \
      --batch-size 32 --half --weights-only --title "PixelRNN, Diagonal BiLSTM" \
      --out checkpoints/digits/pixelrnn-diagonal.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train vae --dataset binary-digits --latent-dim 16 --epochs 30 --half \
      --weights-only --title "VAE, 16-D latent" --out checkpoints/digits/vae-16d-binary.safetensors
fi
if [[ "$which" == diffusion || "$which" == all ]]; then
  # Flow matching (a diffusers U-Net, 1.1M weights), class-conditional with classifier-free guidance; a time
  # budget on one thread (OMP_NUM_THREADS=1) of a shared 2-core CPU (a faster machine trains more steps).
  OMP_NUM_THREADS=1 $py -m genlab train flow-matching --dataset fashion-mnist --num-classes 10 --minutes 60 \
      --batch-size 64 --half --weights-only --title "Flow matching, class-conditional" \
      --out checkpoints/fashion-mnist/flow-matching.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train flow-matching --dataset digits --num-classes 10 --minutes 30 \
      --batch-size 64 --half --weights-only --title "Flow matching, class-conditional" \
      --out checkpoints/digits/flow-matching.safetensors
fi
if [[ "$which" == translation || "$which" == all ]]; then
  # Domain classifiers (they judge translations; shapes' also scores the shapes models on Compare).
  OMP_NUM_THREADS=1 $py -m genlab train classifier --dataset digit-styles --num-classes 4 --epochs 10 --half \
      --weights-only --title "Domain classifier (style)" --out checkpoints/digit-styles/classifier.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train classifier --dataset shapes --num-classes 3 --epochs 4 --half \
      --weights-only --title "Domain classifier (shape)" --out checkpoints/shapes/classifier.safetensors
  # CycleGAN with and without the cycle loss: plain <-> thick digits, squares <-> circles (one thread each).
  OMP_NUM_THREADS=1 $py -m genlab train cyclegan --dataset digit-styles --source 0 --target 1 --epochs 30 --half \
      --weights-only --title "CycleGAN, plain <-> thick" --out checkpoints/digit-styles/cyclegan-thick.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train cyclegan --dataset digit-styles --source 0 --target 1 --cycle-weight 0 \
      --epochs 30 --half --weights-only --title "CycleGAN without the cycle loss, plain <-> thick" \
      --out checkpoints/digit-styles/cyclegan-thick-no-cycle.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train cyclegan --dataset shapes --source 0 --target 1 --epochs 10 --half \
      --weights-only --title "CycleGAN, square <-> circle" --out checkpoints/shapes/cyclegan.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train cyclegan --dataset shapes --source 0 --target 1 --cycle-weight 0 --epochs 10 \
      --half --weights-only --title "CycleGAN without the cycle loss, square <-> circle" \
      --out checkpoints/shapes/cyclegan-no-cycle.safetensors
  # StarGAN: one generator for the four digit styles (width 32, on 2 threads: 123 minutes), and one for the three
  # shapes.
  OMP_NUM_THREADS=2 $py -m genlab train stargan --dataset digit-styles --num-domains 4 --projection true --width 32 \
      --epochs 30 --half \
      --weights-only --title "StarGAN, four styles" --out checkpoints/digit-styles/stargan.safetensors
  # ... 30 more epochs at half the learning rate ...
  OMP_NUM_THREADS=2 $py -m genlab train stargan --dataset digit-styles --resume checkpoints/digit-styles/stargan.safetensors \
      --epochs 30 --lr 1e-4 --seed 1 --half --weights-only --title "StarGAN, four styles" \
      --out checkpoints/digit-styles/stargan.safetensors
  # ... and 20 more at a quarter of it (all 12 directions reach the style and keep the digit for 90% or more)
  OMP_NUM_THREADS=2 $py -m genlab train stargan --dataset digit-styles \
      --resume checkpoints/digit-styles/stargan.safetensors --epochs 20 --lr 5e-5 --seed 2 --half \
      --weights-only --title "StarGAN, four styles" \
      --out checkpoints/digit-styles/stargan.safetensors
  OMP_NUM_THREADS=1 $py -m genlab train stargan --dataset shapes --num-domains 3 --epochs 8 --half --weights-only \
      --title "StarGAN, three shapes" --out checkpoints/shapes/stargan.safetensors
fi
