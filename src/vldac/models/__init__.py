"""Loading a VLM of any supported family, LoRA, the value head, generation, log-probs."""

from vldac.models.families import FAMILIES, Family, family_of, get_family
from vldac.models.loading import ModelLoadError, adapter_counts, load_policy, resolve_model_path
from vldac.models.logprobs import token_entropy, token_logprobs
from vldac.models.policy import Generation, Scores, VLMPolicy
from vldac.models.value_head import ValueHead

__all__ = [
    "FAMILIES",
    "Family",
    "Generation",
    "ModelLoadError",
    "Scores",
    "VLMPolicy",
    "ValueHead",
    "adapter_counts",
    "family_of",
    "get_family",
    "load_policy",
    "resolve_model_path",
    "token_entropy",
    "token_logprobs",
]
