"""The OpenAI Python SDK pointed at codex-auth serve, as a user points it:
base_url is the gateway's /v1, the API key is the local key. Runs Chat
Completions (whole and streamed, a tool call round trip, a refused field)
and Responses (whole and streamed); prints what came back as JSON."""

import json
import sys

import openai

base_url, api_key = sys.argv[1:3]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)
model = "gpt-5.1-codex"
messages = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Say hello."},
]
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"type": "string"}}},
    },
}]
out = {}

chat = client.chat.completions.create(model=model, messages=messages)
out["chat"] = {
    "object": chat.object,
    "content": chat.choices[0].message.content,
    "finish_reason": chat.choices[0].finish_reason,
    "usage": chat.usage.model_dump(),
}

streamed = {"roles": [], "content": "", "finish_reasons": [], "usage": None, "chunks": 0}
for chunk in client.chat.completions.create(
    model=model, messages=messages, stream=True, stream_options={"include_usage": True}
):
    streamed["chunks"] += 1
    for choice in chunk.choices:
        if choice.delta.role:
            streamed["roles"].append(choice.delta.role)
        if choice.delta.content:
            streamed["content"] += choice.delta.content
        if choice.finish_reason:
            streamed["finish_reasons"].append(choice.finish_reason)
    if chunk.usage:
        streamed["usage"] = chunk.usage.model_dump()
out["chat_stream"] = streamed

# A tool call round trip: the model calls the tool (streamed, its arguments
# in pieces), the tool's output goes back, the model answers.
call = {"id": "", "name": "", "arguments": "", "pieces": 0, "finish_reason": None}
for chunk in client.chat.completions.create(model=model, messages=messages, tools=tools, stream=True):
    if not chunk.choices:
        continue
    choice = chunk.choices[0]
    for delta in choice.delta.tool_calls or []:
        if delta.id:
            call["id"] = delta.id
        if delta.function and delta.function.name:
            call["name"] = delta.function.name
        if delta.function and delta.function.arguments:
            call["arguments"] += delta.function.arguments
            call["pieces"] += 1
    if choice.finish_reason:
        call["finish_reason"] = choice.finish_reason
answered = client.chat.completions.create(
    model=model,
    tools=tools,
    messages=messages + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
        ]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18 degrees and sunny"},
    ],
)
out["tool_round_trip"] = {
    "call": {**call, "arguments": json.loads(call["arguments"])},
    "answer": answered.choices[0].message.content,
    "finish_reason": answered.choices[0].finish_reason,
}

try:
    client.chat.completions.create(model=model, messages=messages, stop=["\n"])
    out["refused"] = None
except openai.BadRequestError as e:
    out["refused"] = {"status": e.status_code, "code": e.code, "param": e.param, "type": e.type}

response = client.responses.create(model=model, input="Say hello.", max_output_tokens=100)
out["responses"] = {
    "object": response.object,
    "status": response.status,
    "output_text": response.output_text,
    "usage": response.usage.model_dump() if response.usage else None,
}

types, text = [], ""
for event in client.responses.create(model=model, input="Say hello.", stream=True):
    types.append(event.type)
    if event.type == "response.output_text.delta":
        text += event.delta
out["responses_stream"] = {"types": types, "text": text}

print(json.dumps(out))
