"""ChatModel: batched chat answers from a tiny VLM, greedy and seeded sampling."""

import pytest
from PIL import Image

from vldac.errors import ModelLoadError
from vldac.eval.chat import ChatModel


@pytest.fixture(scope="module")
def chat():
    return ChatModel("tiny:qwen2_vl")


def _conversation(text, image=None, system=False):
    content = ([{"type": "image", "image": image}] if image is not None else [])
    content.append({"type": "text", "text": text})
    messages = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]}] \
        if system else []
    return messages + [{"role": "user", "content": content}]


def test_batched_greedy_answers_equal_one_at_a_time_answers(chat):
    red = Image.new("RGB", (56, 56), (200, 10, 10))
    blue = Image.new("RGB", (84, 56), (10, 10, 200))
    conversations = [
        _conversation("What is in the image?", red),
        _conversation("Go to the red box, then pick up the ball.", system=True),
        [*_conversation("Observation: a key.", blue),
         {"role": "assistant", "content": [{"type": "text", "text": "pick up"}]},
         *_conversation("Current Observation: a door.", red)],
    ]
    batched = chat.generate(conversations, max_new_tokens=8)
    single = [chat.generate([c], max_new_tokens=8)[0] for c in conversations]
    assert batched == single
    assert all(isinstance(t, str) for t in batched)
    assert len(chat.last_usage) == 1 and chat.last_usage[0].input_tokens > 0
    chat.generate(conversations, max_new_tokens=8)
    assert [u.output_tokens <= 8 for u in chat.last_usage] == [True] * 3
    # the two-image conversation holds more prompt tokens than the text-only one
    assert chat.last_usage[2].input_tokens > chat.last_usage[1].input_tokens


def test_sampling_is_reproducible_from_its_seed(chat):
    conversations = [_conversation("Your hand totals 12. Do you hit or stand?")] * 4
    first = chat.generate(conversations, max_new_tokens=12, temperature=1.0, seed=3)
    again = chat.generate(conversations, max_new_tokens=12, temperature=1.0, seed=3)
    other = chat.generate(conversations, max_new_tokens=12, temperature=1.0, seed=4)
    assert first == again
    assert first != other  # a random tiny model: twelve sampled tokens differ across seeds


def test_an_unloadable_model_is_one_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load model"):
        ChatModel(str(tmp_path / "nothing-here"))


def test_the_models_generation_config_only_counts_when_asked(chat):
    conversations = [_conversation("Go to the box 2, then open the red box.")]
    plain = chat.generate(conversations, max_new_tokens=10)
    config = chat.model.generation_config
    saved = config.repetition_penalty
    try:
        config.repetition_penalty = 50.0  # a model default that would change greedy answers
        assert chat.generate(conversations, max_new_tokens=10) == plain
        chat.model_generation_config = True
        assert chat.generate(conversations, max_new_tokens=10) != plain
    finally:
        config.repetition_penalty = saved
        chat.model_generation_config = False
