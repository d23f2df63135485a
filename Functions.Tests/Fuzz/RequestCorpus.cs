using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Qhaigc.Functions.Tests.Fuzz;

/// <summary>One generated request: its family, and the exact bytes sent on the wire (request line, headers, body).</summary>
public sealed record FuzzCase(int Index, string Family, byte[] Request)
{
    /// <summary>The start of the request, printable, for a failure message that lets a person rerun it.</summary>
    public string Preview(int length = 300)
    {
        var text = Encoding.Latin1.GetString(Request, 0, Math.Min(length, Request.Length));
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                < ' ' or > '~' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }
}

/// <summary>Where the corpus is aimed: the gateway's host name, a valid client key, the admin key.</summary>
public sealed record FuzzTarget(string Host, string ClientKey, string AdminKey);

/// <summary>
/// A deterministic generator of hostile requests (docs/faults.md): the same seed always gives the same corpus, so a failure
/// is reproducible, and another seed explores further. Families: broken JSON, deep nesting, huge numbers and strings,
/// wrong types everywhere, invalid UTF-8, duplicate keys (plain, escaped and nested), escaped property names, oversized
/// model names, oversized headers, URLs and bodies, header injection and malformed framing, odd methods, paths, keys
/// (strings that cannot be keys in <c>x-api-key</c> and <c>Authorization</c>) and versions, and the admin API's bodies
/// and queries. Requests are
/// raw HTTP/1.1 bytes, because a client library would refuse to send most of them.
/// </summary>
public static class RequestCorpus
{
    /// <summary>Text placed in every prompt, so a test can prove no prompt reaches the logs.</summary>
    public const string PromptCanary = "qhaigc-fuzz-prompt-canary";

    private static readonly string[] Families =
    [
        "broken-json", "deep-nesting", "huge-number", "huge-string", "wrong-type", "invalid-utf8", "duplicate-key",
        "garbage-body", "odd-json-root", "oversized-header", "oversized-url", "oversized-body", "header-injection",
        "bad-framing", "odd-method-or-path", "odd-credentials", "odd-version", "odd-content-type", "chat-completions",
        "count-tokens", "admin-body", "admin-query", "valid", "escaped-name", "oversized-model",
    ];

    private static readonly string[] Endpoints = ["/v1/messages", "/v1/chat/completions", "/v1/messages/count_tokens"];

    /// <summary>The first <paramref name="count"/> cases of the corpus for <paramref name="seed"/>.</summary>
    public static IEnumerable<FuzzCase> Generate(int seed, int count, FuzzTarget target)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            // Each case has a seed of its own, so case i is the same whatever the count.
            var caseRandom = new Random(random.Next());
            var family = Families[i % Families.Length];
            yield return new FuzzCase(i, family, Build(family, caseRandom, target));
        }
    }

    private static byte[] Build(string family, Random random, FuzzTarget target) => family switch
    {
        "broken-json" => Post(target, Pick(random, Endpoints), BreakJson(random, ValidBody(random))),
        "deep-nesting" => Post(target, Pick(random, Endpoints), DeepNesting(random)),
        "huge-number" => Post(target, "/v1/messages", HugeNumber(random)),
        "huge-string" => Post(target, Pick(random, Endpoints), HugeString(random)),
        "wrong-type" => Post(target, Pick(random, Endpoints), WrongType(random)),
        "invalid-utf8" => Post(target, Pick(random, Endpoints), InvalidUtf8(random, ValidBody(random))),
        "duplicate-key" => Post(target, Pick(random, Endpoints), DuplicateKey(random)),
        "garbage-body" => Post(target, Pick(random, Endpoints), Bytes(random, random.Next(0, 4096))),
        "odd-json-root" => Post(target, Pick(random, Endpoints), Encoding.UTF8.GetBytes(Pick(random,
            ["", " ", "null", "[]", "\"text\"", "1", "true", "{}", "[{}]", "{\"model\":null}", "\uFEFF{}", "{\"a\":1}garbage", "{}{}"]))),
        "oversized-header" => OversizedHeader(random, target),
        "oversized-url" => Raw($"POST /v1/messages?{new string('a', random.Next(9_000, 40_000))} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"),
        "oversized-body" => OversizedBody(random, target),
        "header-injection" => HeaderInjection(random, target),
        "bad-framing" => BadFraming(random, target),
        "odd-method-or-path" => OddMethodOrPath(random, target),
        "odd-credentials" => OddCredentials(random, target),
        "odd-version" => Post(target, "/v1/messages", ValidMessages(random), version: Pick(random,
            ["", "2023-06-01,2023-06-01", "1999-01-01", "2023-06-01\t", "latest", new string('9', 5000), "2023-06-01 ; x=1", "%00"])),
        "odd-content-type" => Post(target, Pick(random, Endpoints), ValidBody(random), contentType: Pick(random,
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "", "*/*", "application/json; charset=\"\\\""])),
        "chat-completions" => Post(target, "/v1/chat/completions", ChatBody(random)),
        "count-tokens" => Post(target, "/v1/messages/count_tokens", WrongType(random)),
        "admin-body" => AdminBody(random, target),
        "admin-query" => AdminQuery(random, target),
        "escaped-name" => Post(target, Pick(random, Endpoints), EscapedName(random)),
        "oversized-model" => Post(target, Pick(random, Endpoints), OversizedModel(random)),
        _ => Post(target, "/v1/messages", ValidMessages(random)),
    };

    private static byte[] ValidBody(Random random) => random.Next(3) switch
    {
        0 => ChatBody(random),
        _ => ValidMessages(random),
    };

    private static byte[] ValidMessages(Random random)
    {
        var stream = random.Next(2) == 0 ? "true" : "false";
        return Encoding.UTF8.GetBytes(random.Next(4) switch
        {
            0 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"stream":{{stream}},"messages":[{"role":"user","content":"{{PromptCanary}} hello"}]}""",
            1 => $$$"""{"model":"claude-haiku-4-5","max_tokens":8,"stream":{{{stream}}},"system":[{"type":"text","text":"be brief"}],"messages":[{"role":"user","content":[{"type":"text","text":"{{{PromptCanary}}}","cache_control":{"type":"ephemeral"}}]},{"role":"assistant","content":"ok"},{"role":"user","content":"again"}],"stop_sequences":["x"],"temperature":0.5,"metadata":{"user_id":"u1"}}""",
            2 => $$$$$"""{"model":"claude-opus-4-1","max_tokens":2048,"stream":{{{{{stream}}}}},"thinking":{"type":"enabled","budget_tokens":1024},"tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{"location":{"type":"string"}}}}],"tool_choice":{"type":"auto"},"messages":[{"role":"user","content":"{{{{{PromptCanary}}}}} weather?"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"location":"SF"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]}]}""",
            _ => $$$"""{"model":"claude-sonnet-4-5","max_tokens":16,"stream":{{{stream}}},"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"text","text":"{{{PromptCanary}}}"}]}]}""",
        });
    }

    private static byte[] ChatBody(Random random)
    {
        var stream = random.Next(2) == 0 ? "true" : "false";
        return Encoding.UTF8.GetBytes(random.Next(3) switch
        {
            0 => $$"""{"model":"gpt-4o","stream":{{stream}},"messages":[{"role":"system","content":"s"},{"role":"user","content":"{{PromptCanary}}"}]}""",
            1 => $$"""{"model":"claude-sonnet-4-5","style":"claude","max_tokens":16,"stream":{{stream}},"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[{"type":"text","text":"{{PromptCanary}}"}]}]}""",
            _ => $$$$"""{"model":"gpt-4o","max_completion_tokens":8,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","messages":[{"role":"user","content":"{{{{PromptCanary}}}}"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"}]}""",
        });
    }

    private static byte[] BreakJson(Random random, byte[] body)
    {
        var bytes = body.ToList();
        switch (random.Next(5))
        {
            case 0:
                return [.. bytes.Take(random.Next(bytes.Count))];
            case 1:
                bytes.Insert(random.Next(bytes.Count), (byte)Pick(random, ['{', '}', '[', ']', ',', ':', '"', '\\', '\0', 'x']));
                return [.. bytes];
            case 2:
                var start = random.Next(bytes.Count);
                bytes.RemoveRange(start, Math.Min(random.Next(1, 20), bytes.Count - start));
                return [.. bytes];
            case 3:
                for (var i = 0; i < 1 + random.Next(8); i++)
                {
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                }

                return [.. bytes];
            default:
                return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"", "'", StringComparison.Ordinal));
        }
    }

    private static byte[] DeepNesting(Random random)
    {
        var depth = Pick(random, [64, 65, 129, 1000, 10_000, 100_000]);
        var (open, close) = random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
        var nested = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            nested.Append(open);
        }

        nested.Append('1');
        if (random.Next(4) != 0)
        {
            for (var i = 0; i < depth; i++)
            {
                nested.Append(close);
            }
        }

        var where = random.Next(4);
        return Encoding.UTF8.GetBytes(where switch
        {
            0 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":{{nested}}]}""",
            1 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"metadata":{{nested}},"messages":[{"role":"user","content":"hi"}]}""",
            2 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"tools":[{"name":"t","input_schema":{"type":"object","properties":{{nested}}],"messages":[{"role":"user","content":"hi"}]}""",
            _ => nested.ToString(),
        });
    }

    private static byte[] HugeNumber(Random random)
    {
        var number = Pick(random,
        [
            "1e309", "-1e309", "99999999999999999999999999999999", "-1", "0", "1.5", "1e-400", "9223372036854775808",
            "-9223372036854775809", "2147483648", "1" + new string('0', 10_000), "0.0000000000000000000001", "-0", "1E+2", "NaN", "Infinity",
        ]);
        var field = Pick(random, ["max_tokens", "temperature", "top_p", "top_k", "thinking\":{\"type\":\"enabled\",\"budget_tokens"]);
        var closing = field.StartsWith("thinking", StringComparison.Ordinal) ? "}" : "";
        return Encoding.UTF8.GetBytes(
            $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"{{field}}":{{number}}{{closing}},"messages":[{"role":"user","content":"{{PromptCanary}}"}]}""");
    }

    private static byte[] HugeString(Random random)
    {
        var size = Pick(random, [70_000, 300_000, 1_500_000]);
        var text = new string(Pick(random, ['a', 'é', '"', '\\']), 1) switch
        {
            "\"" => string.Concat(Enumerable.Repeat("\\\"", size / 2)),
            "\\" => string.Concat(Enumerable.Repeat("\\\\", size / 2)),
            var c => new string(c[0], size),
        };
        return Encoding.UTF8.GetBytes(random.Next(4) switch
        {
            0 => $$"""{"model":"{{text}}","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""",
            1 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"{{text}}"}]}""",
            2 => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"{{text}}":1,"messages":[{"role":"user","content":"hi"}]}""",
            _ => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"stop_sequences":["{{text}}"],"messages":[{"role":"user","content":"hi"}]}""",
        });
    }

    private static byte[] WrongType(Random random)
    {
        var root = JsonNode.Parse(random.Next(3) == 0 ? ChatBody(random) : ValidMessages(random))!;
        for (var changes = 1 + random.Next(3); changes > 0; changes--)
        {
            var nodes = new List<(JsonNode Parent, object Key)>();
            Collect(root, nodes);
            var (parent, key) = nodes[random.Next(nodes.Count)];
            var value = RandomValue(random);
            if (parent is JsonObject obj)
            {
                obj[(string)key] = value;
            }
            else if (parent is JsonArray array)
            {
                array[(int)key] = value;
            }
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static void Collect(JsonNode node, List<(JsonNode, object)> nodes)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                nodes.Add((obj, key));
                if (child is not null)
                {
                    Collect(child, nodes);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                nodes.Add((array, i));
                if (array[i] is { } child)
                {
                    Collect(child, nodes);
                }
            }
        }
    }

    private static JsonNode? RandomValue(Random random) => random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(true),
        2 => JsonValue.Create(0),
        3 => JsonValue.Create(-1),
        4 => JsonValue.Create(1e300),
        5 => JsonValue.Create(""),
        6 => JsonValue.Create("x"),
        7 => new JsonArray(),
        8 => new JsonObject(),
        9 => new JsonArray(new JsonArray(), JsonValue.Create(1)),
        10 => new JsonObject { ["type"] = "unknown", ["text"] = 5 },
        _ => JsonValue.Create(long.MaxValue),
    };

    private static byte[] InvalidUtf8(Random random, byte[] body)
    {
        byte[][] sequences = [[0xC3, 0x28], [0xFF], [0xFE, 0xFF], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]];
        var bytes = body.ToList();
        // Inside a string (after an opening quote) most of the time, so the parser has to look at it.
        var quotes = bytes.Select((b, i) => (b, i)).Where(static x => x.b == (byte)'"').Select(static x => x.i + 1).ToList();
        for (var n = 0; n < 1 + random.Next(3); n++)
        {
            var at = quotes.Count > 0 && random.Next(4) != 0 ? quotes[random.Next(quotes.Count)] : random.Next(bytes.Count);
            bytes.InsertRange(Math.Min(at, bytes.Count), sequences[random.Next(sequences.Length)]);
        }

        return [.. bytes];
    }

    private static byte[] DuplicateKey(Random random)
    {
        var duplicate = Pick(random,
        [
            "\"model\":\"claude-sonnet-4-5\",\"model\":5", "\"model\":\"a\",\"model\":\"claude-sonnet-4-5\"", "\"stream\":true,\"stream\":false",
            "\"messages\":[],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]", "\"max_tokens\":16,\"max_tokens\":\"16\"",
            "\"style\":\"claude\",\"style\":\"openai\"", "\"stream\":false,\"stream\":{}",
            // The same name written two ways: a parser that compares raw bytes sees two properties, a strict one one.
            "\"model\":\"a\",\"mod\\u0065l\":\"claude-sonnet-4-5\"", "\"max_tokens\":1,\"max\\u005ftokens\":100000",
            "\"m\\u006fdel\":\"claude-opus-4-1\"", "\"metadata\":{\"user_id\":\"a\",\"user_id\":\"b\"}",
            "\"system\":[{\"type\":\"text\",\"text\":\"a\",\"text\":\"b\"}]",
        ]);
        return Encoding.UTF8.GetBytes(
            $$"""{{duplicate}},"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"{{PromptCanary}}","role":"assistant"}]}""");
    }

    /// <summary>A valid request whose property names are written with escapes (<c>"max\u005ftokens"</c>): the same names to a JSON parser.</summary>
    private static byte[] EscapedName(Random random)
    {
        var (model, maxTokens, cache) = (Pick(random, ["model", "mod\\u0065l", "\\u006d\\u006f\\u0064\\u0065\\u006c"]),
            Pick(random, ["max_tokens", "max\\u005ftokens", "max\\u005Ftokens"]), Pick(random, ["cache_control", "cache\\u005fcontrol", "\\u0063ache_control"]));
        return Encoding.UTF8.GetBytes(random.Next(3) switch
        {
            0 => $$"""{"{{model}}":"claude-sonnet-4-5","{{maxTokens}}":16,"messages":[{"role":"user","content":"{{PromptCanary}}"}]}""",
            1 => $$$"""{"{{{model}}}":"claude-sonnet-4-5","{{{maxTokens}}}":16,"system":[{"type":"text","text":"s","{{{cache}}}":{"type":"ephemeral"}}],"messages":[{"role":"user","content":"{{{PromptCanary}}}"}]}""",
            _ => $$"""{"model":"claude-sonnet-4-5","max_tokens":16,"str\u0065am":true,"messages":[{"r\u006fle":"user","content":"{{PromptCanary}}"}]}""",
        });
    }

    /// <summary>Model names over the 256 characters the gateway takes, plain, escaped or with odd characters.</summary>
    private static byte[] OversizedModel(Random random)
    {
        var length = random.Next(257, 40_000);
        var model = random.Next(4) switch
        {
            0 => new string('m', length),
            1 => "claude-" + new string('x', length),
            2 => string.Concat(Enumerable.Repeat("\\u0041", length / 6 + 43)),
            _ => "claude-sonnet-4-5" + string.Concat(Enumerable.Repeat("/..", length / 3)),
        };
        return Encoding.UTF8.GetBytes($$"""{"model":"{{model}}","max_tokens":16,"messages":[{"role":"user","content":"{{PromptCanary}}"}]}""");
    }

    private static byte[] OversizedHeader(Random random, FuzzTarget target)
    {
        var body = ValidMessages(random);
        return random.Next(3) switch
        {
            0 => Post(target, "/v1/messages", body, extraHeaders: $"anthropic-beta: {new string('b', random.Next(33_000, 100_000))}\r\n"),
            1 => Post(target, "/v1/messages", body, extraHeaders: string.Concat(Enumerable.Range(0, random.Next(101, 400)).Select(static i => $"x-h{i}: v\r\n"))),
            _ => Post(target, "/v1/messages", body, extraHeaders: $"x-api-key: {new string('k', random.Next(9_000, 40_000))}\r\n"),
        };
    }

    private static byte[] OversizedBody(Random random, FuzzTarget target)
    {
        const long limit = 32L * 1024 * 1024;
        var path = Pick(random, Endpoints);
        return random.Next(3) switch
        {
            // A length over the limit, with a body that never comes: refused from the headers alone.
            0 => Raw($"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nContent-Length: {limit + 1 + random.Next(1_000_000)}\r\nConnection: close\r\n\r\n{{\"model\":"),
            1 => Raw($"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\nContent-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n"),
            // Chunked, no length: the gateway must count as it reads (a few cases of ~33 MB in a whole corpus).
            _ => random.Next(8) == 0
                ? Chunked(target, path, (int)(limit + 1024))
                : Raw($"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nContent-Length: {limit + 1}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"),
        };
    }

    private static byte[] Chunked(FuzzTarget target, string path, int size)
    {
        var head = Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        using var stream = new MemoryStream(head.Length + size + 1024);
        stream.Write(head);
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, (byte)' ');
        var chunkHead = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        for (var sent = 0; sent < size; sent += chunk.Length)
        {
            stream.Write(chunkHead);
            stream.Write(chunk);
            stream.Write("\r\n"u8);
        }

        stream.Write("0\r\n\r\n"u8);
        return stream.ToArray();
    }

    private static byte[] HeaderInjection(Random random, FuzzTarget target)
    {
        var injected = Pick(random,
        [
            "anthropic-beta: a\rx-api-key: stolen\r\n",
            "anthropic-beta: a\nHost: 169.254.169.254\r\n",
            "x-api-key: " + target.ClientKey + "\r\n x-folded: continuation\r\n",
            "anthropic-beta: \0\r\n",
            "bad header: x\r\n",
            "x-empty-name\r\n",
            ": no-name\r\n",
            "anthropic-version: 2023-06-01\r\nanthropic-version: 2023-06-01\r\n",
            "anthropic-beta: caf\u00e9\r\n",
            "Host: evil.example\r\n",
            "X-Forwarded-Host: evil.example\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=1.2.3.4;host=evil.example\r\nX-Original-URL: /manage/keys\r\nX-Rewrite-URL: /manage/keys\r\n",
            "anthropic-foo: %0d%0aX-Injected:%20yes\r\n",
            "Connection: anthropic-hop, keep-alive\r\nanthropic-hop: dropped\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Authorization: Basic eA==\r\n",
        ]);
        var body = ValidMessages(random);
        var head = $"POST /v1/messages HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n{injected}Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.Latin1.GetBytes(head), .. body];
    }

    private static byte[] BadFraming(Random random, FuzzTarget target)
    {
        var body = Encoding.ASCII.GetString(ValidMessages(random));
        var prefix = $"POST /v1/messages HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n";
        return Raw(random.Next(8) switch
        {
            0 => $"{prefix}Content-Length: {body.Length}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body.Length:x}\r\n{body}\r\n0\r\n\r\n",
            1 => $"{prefix}Content-Length: {body.Length}\r\nContent-Length: {body.Length + 5}\r\nConnection: close\r\n\r\n{body}",
            2 => $"{prefix}Content-Length: -1\r\nConnection: close\r\n\r\n{body}",
            3 => $"{prefix}Content-Length: abc\r\nConnection: close\r\n\r\n{body}",
            4 => $"{prefix}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n",
            5 => $"{prefix}Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n{body.Length:x}\r\n{body}\r\n0\r\n\r\n",
            6 => $"{prefix}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body.Length + 10:x}\r\n{body}\r\n0\r\n\r\n",
            _ => $"POST /v1/messages HTTP/1.1\nHost: {target.Host}\nx-api-key: {target.ClientKey}\nContent-Length: {body.Length}\nConnection: close\n\n{body}",
        });
    }

    private static byte[] OddMethodOrPath(Random random, FuzzTarget target)
    {
        var method = Pick(random, ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "FOO", "post", "POST"]);
        var path = Pick(random,
        [
            "/v1/messages", "/v1/messages/../../manage/keys", "/%2e%2e/manage/keys", "/v1/messages%00", "//v1//messages", "/v1/messages/",
            "/v1/models/%2F..%2F..", "/v1/models/" + new string('m', 4000), "/manage/keys/%00", "/manage/keys/key_' or '1'='1",
            "/manage/usage?keyId=' or PartitionKey ne '", "*", "http://evil.example/v1/messages", "/v1/messages?beta=true&beta=%ZZ",
            "/runtime/webhooks", "/admin/host/status", "/\u00e9", "/v1/chat/completions?%",
        ]);
        var body = ValidMessages(random);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\nanthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.Latin1.GetBytes(head), .. body];
    }

    private static byte[] OddCredentials(Random random, FuzzTarget target)
    {
        var credentials = Pick(random,
        [
            "", "x-api-key: \r\n", "x-api-key: sk-qh-\r\n", $"x-api-key: {target.ClientKey}x\r\n", "Authorization: Bearer\r\n",
            "Authorization: Bearer \r\n", "Authorization: Basic dXNlcjpwYXNz\r\n", $"Authorization: Bearer {target.ClientKey}\r\nAuthorization: Bearer other\r\n",
            $"x-api-key: {target.ClientKey}\r\nx-api-key: other\r\n", "x-api-key: " + new string('s', 8000) + "\r\n",
            $"Authorization: bEaReR    {target.ClientKey}   \r\n", "x-api-key: sk-qh-' or ''='\r\n", "Authorization: Bearer sk-qh-\u00ff\u00fe\r\n",
            // Strings that cannot be gateway keys: other vendors' keys, tokens, the admin key, markup, controls, random text.
            "x-api-key: sk-ant-api03-" + new string('A', 95) + "\r\n", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig\r\n",
            $"x-api-key: {target.AdminKey}\r\n", $"Authorization: Bearer {target.AdminKey}\r\n", "x-api-key: null\r\n",
            "x-api-key: {\"key\":\"sk-qh-x\"}\r\n", "Authorization: Bearer %00%0d%0a\r\n", "x-api-key: \t sk-qh-\t\r\n",
            "Authorization: Negotiate YIIBhwYGKwYBBQUC\r\n", "x-api-key: " + new string('\u00e9', 300) + "\r\n",
            "x-api-key: sk-qh-" + new string('A', 43) + "\r\n", "Authorization: Bearer sk-qh-" + new string('-', 43) + "\r\n",
            "Authorization: " + new string('B', 20_000) + "\r\n", "x-api-key: ../../manage/keys\r\n",
        ]);
        var path = Pick(random, ["/v1/messages", "/v1/chat/completions", "/v1/messages/count_tokens", "/v1/models", "/manage/keys"]);
        var body = ValidBody(random);
        var head = $"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\n{credentials}anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.Latin1.GetBytes(head), .. body];
    }

    private static byte[] AdminBody(Random random, FuzzTarget target)
    {
        var body = random.Next(4) switch
        {
            0 => BreakJson(random, """{"name":"fuzz","models":["claude-*"],"expiresAt":"2030-01-01T00:00:00Z","limits":{"rpm":10}}"""u8.ToArray()),
            1 => WrongTypeOf(random, """{"name":"fuzz","models":["claude-*"],"expiresAt":"2030-01-01T00:00:00Z","disabled":false,"limits":{"rpm":10}}"""),
            2 => DeepNesting(random),
            _ => InvalidUtf8(random, """{"name":"fuzz","models":["claude-*"]}"""u8.ToArray()),
        };
        var (method, path) = Pick(random, [("POST", "/manage/keys"), ("PATCH", "/manage/keys/key_0000000000000000"), ("PATCH", "/manage/keys/" + Uri.EscapeDataString("key_../../x"))]);
        var head = $"{method} {path} HTTP/1.1\r\nHost: {target.Host}\r\nAuthorization: Bearer {target.AdminKey}\r\ncontent-type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        return [.. Encoding.Latin1.GetBytes(head), .. body];
    }

    private static byte[] AdminQuery(Random random, FuzzTarget target)
    {
        var query = Pick(random,
        [
            "from=garbage", "from=2026-13-45", "to=0001-01-01&from=9999-12-31", "limit=-1", "limit=1e20", "limit=99999999999", "cursor=%%%",
            "cursor=" + Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"pk\":\"x\"}")), "keyId=" + new string('k', 5000),
            "keyId=a'%20or%20'1'%3D'1", "from=2026-01-01&from=2026-02-01", "cursor=" + new string('A', 10_000), "limit=",
        ]);
        return Raw($"GET /manage/usage?{query} HTTP/1.1\r\nHost: {target.Host}\r\nAuthorization: Bearer {target.AdminKey}\r\nConnection: close\r\n\r\n");
    }

    private static byte[] WrongTypeOf(Random random, string json)
    {
        var root = JsonNode.Parse(json)!;
        var nodes = new List<(JsonNode Parent, object Key)>();
        Collect(root, nodes);
        var (parent, key) = nodes[random.Next(nodes.Count)];
        if (parent is JsonObject obj)
        {
            obj[(string)key] = RandomValue(random);
        }
        else if (parent is JsonArray array)
        {
            array[(int)key] = RandomValue(random);
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[] Post(FuzzTarget target, string path, byte[] body, string? version = "2023-06-01", string contentType = "application/json", string extraHeaders = "")
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {path} HTTP/1.1\r\nHost: {target.Host}\r\nx-api-key: {target.ClientKey}\r\n");
        if (version is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"anthropic-version: {version}\r\n");
        }

        if (contentType.Length > 0)
        {
            head.Append(CultureInfo.InvariantCulture, $"content-type: {contentType}\r\n");
        }

        head.Append(extraHeaders).Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
    }

    private static byte[] Raw(string request) => Encoding.Latin1.GetBytes(request);

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
}
