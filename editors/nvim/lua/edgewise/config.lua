--- Options of require('edgewise').setup(): their defaults, and a validator whose errors
--- name the wrong key. `settings` are the server's settings, in the shape of
--- schemas/config.schema.json (mirrored below; tests/editors/test_nvim.py checks that the
--- two agree).
local M = {}

---@class edgewise.Spec
---@field type string|string[] 'string'|'integer'|'number'|'boolean'|'object'|'array'|'keymap'
---@field default? any
---@field minimum? number
---@field maximum? number
---@field minLength? integer
---@field pattern? string the JSON schema's regular expression (kept for comparison)
---@field lua_patterns? string[] Lua patterns that check it: a value must match one
---@field what? string how to describe a valid value in errors
---@field properties? table<string, edgewise.Spec>
---@field items? edgewise.Spec
---@field optional? boolean may be nil (no default)

--- The server settings (schemas/config.schema.json, same names, bounds and defaults).
---@type table<string, edgewise.Spec>
M.settings_schema = {
  model = { type = 'string', default = '' },
  backend = { type = 'string', default = 'embedded' },
  remoteModel = { type = 'string', default = '' },
  apiKeyEnv = {
    type = 'string',
    default = '',
    pattern = '^([A-Za-z_][A-Za-z0-9_]*)?$',
    lua_patterns = { '^$', '^[A-Za-z_][A-Za-z0-9_]*$' },
    what = 'empty or the name of an environment variable',
  },
  remoteTokenizer = { type = 'string', default = '' },
  requestTimeoutMs = { type = 'integer', minimum = 100, maximum = 600000, default = 30000 },
  maxParallelRequests = { type = 'integer', minimum = 1, maximum = 64, default = 4 },
  contextBudget = { type = 'integer', minimum = 64, maximum = 32768, default = 1024 },
  maxTokens = { type = 'integer', minimum = 1, maximum = 4096, default = 64 },
  actionMaxTokens = { type = 'integer', minimum = 1, maximum = 8192, default = 256 },
  minConfidence = { type = 'number', minimum = 0, maximum = 1, default = 0.05 },
  lowConfidence = { type = 'number', minimum = 0, maximum = 1, default = 0.3 },
  temperature = { type = 'number', minimum = 0, maximum = 2, default = 0 },
  seed = { type = 'integer', minimum = 0, maximum = 4294967295, default = 42 },
  contextLength = { type = 'integer', minimum = 256, maximum = 131072, default = 4096 },
  threads = { type = 'integer', minimum = 0, maximum = 256, default = 0 },
  cpuExtraBuffers = {
    type = 'string',
    default = 'auto',
    lua_patterns = { '^auto$', '^on$', '^off$' },
    what = "'auto', 'on' or 'off'",
  },
  maxCompletionMs = { type = 'integer', minimum = 50, maximum = 600000, default = 5000 },
  debounceMs = { type = 'integer', minimum = 0, maximum = 5000, default = 100 },
  pricing = {
    type = 'object',
    default = {},
    properties = {
      deviceWatts = { type = 'number', minimum = 0, maximum = 100000, default = 30 },
      pricePerKwh = { type = 'number', minimum = 0, maximum = 1000, default = 0.3 },
      cloudInputPerMillion = { type = 'number', minimum = 0, maximum = 100000, default = 3.0 },
      cloudOutputPerMillion = { type = 'number', minimum = 0, maximum = 100000, default = 15.0 },
      currency = { type = 'string', minLength = 1, default = 'USD' },
    },
  },
  remotePricing = {
    type = 'object',
    default = {},
    properties = {
      deviceWatts = { type = 'number', minimum = 0, maximum = 100000, default = 300 },
      pricePerKwh = { type = 'number', minimum = 0, maximum = 1000, default = 0.3 },
      inputPerMillion = { type = 'number', minimum = 0, maximum = 100000, default = 0 },
      outputPerMillion = { type = 'number', minimum = 0, maximum = 100000, default = 0 },
    },
  },
}

---@class edgewise.GhostOptions
---@field enabled boolean show inline completions as ghost text
---@field debounce_ms integer wait this long after the last keystroke before asking
---@field hl_group string highlight group of the ghost text

---@class edgewise.Keymaps
---@field accept string|false insert-mode key that accepts the whole suggestion
---@field accept_word string|false insert-mode key that accepts its next word
---@field dismiss string|false insert-mode key that hides it

---@class edgewise.Options
---@field cmd? string[] command that starts the server (default: lsp/edgewise.lua's)
---@field filetypes? string[] filetypes to attach to (default: lsp/edgewise.lua's)
---@field root_markers? string[] files that mark a project root
---@field settings table<string, any> server settings (schemas/config.schema.json)
---@field enable boolean call vim.lsp.enable('edgewise')
---@field ghost edgewise.GhostOptions
---@field keymaps edgewise.Keymaps

local string_list = { type = 'array', items = { type = 'string', minLength = 1 }, optional = true }

--- The plugin's own options.
---@type table<string, edgewise.Spec>
M.options_schema = {
  cmd = string_list,
  filetypes = string_list,
  root_markers = string_list,
  settings = { type = 'object', default = {}, properties = M.settings_schema },
  enable = { type = 'boolean', default = true },
  ghost = {
    type = 'object',
    default = {},
    properties = {
      enabled = { type = 'boolean', default = true },
      debounce_ms = { type = 'integer', minimum = 0, maximum = 5000, default = 75 },
      hl_group = { type = 'string', minLength = 1, default = 'EdgewiseGhost' },
    },
  },
  keymaps = {
    type = 'object',
    default = {},
    properties = {
      accept = { type = 'keymap', default = '<Tab>' },
      accept_word = { type = 'keymap', default = '<M-Right>' },
      dismiss = { type = 'keymap', default = '<C-]>' },
    },
  },
}

--- Edit distance, for "did you mean" hints.
---@param a string
---@param b string
---@return integer
local function distance(a, b)
  local prev = {}
  for j = 0, #b do
    prev[j] = j
  end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

---@param key string
---@param known table<string, edgewise.Spec>
---@return string?
local function suggest(key, known)
  local plain = key:lower():gsub('_', '')
  local best, best_d = nil, 3
  for name in pairs(known) do
    local d = name:lower():gsub('_', '') == plain and 0 or distance(key, name)
    if d < best_d or (d == best_d and best and name < best) then
      best, best_d = name, d
    end
  end
  return best
end

---@param spec edgewise.Spec
---@return string
local function describe(spec)
  if spec.what then
    return spec.what
  end
  local what = ({
    string = 'a string',
    integer = 'an integer',
    number = 'a number',
    boolean = 'true or false',
    object = 'a table',
    array = 'a list of strings',
    keymap = 'a key (string) or false',
  })[spec.type] or spec.type
  if spec.minimum and spec.maximum then
    what = ('%s from %s to %s'):format(what, spec.minimum, spec.maximum)
  elseif spec.minimum then
    what = ('%s >= %s'):format(what, spec.minimum)
  elseif spec.minLength then
    what = 'a non-empty string'
  end
  return what
end

---@param value any
---@param spec edgewise.Spec
---@return boolean
local function conforms(value, spec)
  local t = spec.type
  if t == 'string' then
    if type(value) ~= 'string' or #value < (spec.minLength or 0) then
      return false
    end
    for _, pattern in ipairs(spec.lua_patterns or { '' }) do
      if value:match(pattern) then
        return true
      end
    end
    return false
  elseif t == 'boolean' then
    return type(value) == 'boolean'
  elseif t == 'keymap' then
    return value == false or (type(value) == 'string' and value ~= '')
  elseif t == 'integer' or t == 'number' then
    if type(value) ~= 'number' or value ~= value then
      return false
    end
    if t == 'integer' and math.floor(value) ~= value then
      return false
    end
    return value >= (spec.minimum or -math.huge) and value <= (spec.maximum or math.huge)
  elseif t == 'array' then
    if type(value) ~= 'table' or not vim.islist(value) or #value == 0 then
      return false
    end
    for _, item in ipairs(value) do
      if not conforms(item, spec.items) then
        return false
      end
    end
    return true
  elseif t == 'object' then
    return type(value) == 'table' and (next(value) == nil or not vim.islist(value))
  end
  return false
end

--- Check `value` against the object spec `props`; raise an error naming the first wrong key.
---@param value table
---@param props table<string, edgewise.Spec>
---@param path string
local function check_object(value, props, path)
  local keys = vim.tbl_keys(value)
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  for _, key in ipairs(keys) do
    local where = path == '' and tostring(key) or (path .. '.' .. tostring(key))
    local spec = props[key]
    if spec == nil then
      local hint = type(key) == 'string' and suggest(key, props) or nil
      error(
        ('edgewise.setup: unknown option %s%s'):format(
          where,
          hint and (' (did you mean %s?)'):format(path == '' and hint or (path .. '.' .. hint)) or ''
        ),
        0
      )
    end
    local item = value[key]
    if not conforms(item, spec) then
      error(('edgewise.setup: option %s must be %s, got %s'):format(where, describe(spec), vim.inspect(item)), 0)
    end
    if spec.type == 'object' and spec.properties then
      check_object(item, spec.properties, where)
    end
  end
end

--- Defaults of an object spec (nested objects included; optional keys stay nil).
---@param props table<string, edgewise.Spec>
---@param with_settings boolean also fill in the server settings' defaults
---@return table
local function defaults_of(props, with_settings)
  local out = {}
  for key, spec in pairs(props) do
    if spec.type == 'object' and spec.properties then
      if spec.properties ~= M.settings_schema or with_settings then
        out[key] = defaults_of(spec.properties, with_settings)
      else
        out[key] = {}
      end
    elseif spec.default ~= nil then
      out[key] = vim.deepcopy(spec.default)
    end
  end
  return out
end

--- The plugin's defaults. Server settings default to {} (the server knows its defaults).
---@return edgewise.Options
function M.defaults()
  return defaults_of(M.options_schema, false)
end

--- The server settings' defaults, as in schemas/config.schema.json.
---@return table<string, any>
function M.settings_defaults()
  return defaults_of(M.settings_schema, true)
end

--- Validate user options and merge them over the defaults. Raises an error that names
--- the wrong key (unknown keys get a "did you mean" hint).
---@param opts? table
---@return edgewise.Options
function M.resolve(opts)
  if opts ~= nil and type(opts) ~= 'table' then
    error(('edgewise.setup: options must be a table, got %s'):format(type(opts)), 0)
  end
  opts = opts or {}
  check_object(opts, M.options_schema, '')
  return vim.tbl_deep_extend('force', M.defaults(), opts)
end

return M
