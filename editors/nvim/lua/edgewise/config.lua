--- Options of require('edgewise').setup(): their defaults, and a check of the plugin's own
--- options whose errors name the wrong key. `settings` are the server's settings
--- (schemas/config.schema.json, generated into edgewise/settings.lua): they are passed to
--- the server as they are, and the server reports each wrong key with a warning.
local M = {}

--- The server settings' definitions (generated from schemas/config.schema.json).
M.settings = require('edgewise.settings')

---@class edgewise.GhostOptions
---@field enabled boolean show inline completions as ghost text
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

---@class edgewise.Option
---@field kind 'boolean'|'name'|'keymap'|'list'|'settings'|'group'
---@field default? any
---@field options? table<string, edgewise.Option> the options of a group

--- What a valid value of each kind is, and how errors describe it.
---@type table<string, {what: string, valid: fun(value: any): boolean}>
local KINDS = {
  boolean = {
    what = 'true or false',
    valid = function(v)
      return type(v) == 'boolean'
    end,
  },
  name = {
    what = 'a non-empty string',
    valid = function(v)
      return type(v) == 'string' and v ~= ''
    end,
  },
  keymap = {
    what = 'a key (string) or false',
    valid = function(v)
      return v == false or (type(v) == 'string' and v ~= '')
    end,
  },
  list = {
    what = 'a list of strings',
    valid = function(v)
      return type(v) == 'table'
        and vim.islist(v)
        and #v > 0
        and vim.iter(v):all(function(item)
          return type(item) == 'string' and item ~= ''
        end)
    end,
  },
  settings = {
    what = 'a table of server settings',
    valid = function(v)
      return type(v) == 'table' and (next(v) == nil or not vim.islist(v))
    end,
  },
  group = {
    what = 'a table',
    valid = function(v)
      return type(v) == 'table' and (next(v) == nil or not vim.islist(v))
    end,
  },
}

--- The plugin's own options.
---@type table<string, edgewise.Option>
M.options = {
  cmd = { kind = 'list' },
  filetypes = { kind = 'list' },
  root_markers = { kind = 'list' },
  settings = { kind = 'settings', default = {} },
  enable = { kind = 'boolean', default = true },
  ghost = {
    kind = 'group',
    options = {
      enabled = { kind = 'boolean', default = true },
      hl_group = { kind = 'name', default = 'EdgewiseGhost' },
    },
  },
  keymaps = {
    kind = 'group',
    options = {
      accept = { kind = 'keymap', default = '<Tab>' },
      accept_word = { kind = 'keymap', default = '<M-Right>' },
      dismiss = { kind = 'keymap', default = '<C-]>' },
    },
  },
}

--- Options that are no longer used: accepted with a warning that says what replaced them.
local REMOVED = {
  ['ghost.debounce_ms'] = ('the server waits `settings.debounceMs` (default %d) before it answers'):format(
    M.settings.debounceMs.default
  ),
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
---@param known table<string, any>
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

--- Check `value` against `options`; raise an error naming the first wrong key. Removed
--- options are taken out of `value` with a warning.
---@param value table
---@param options table<string, edgewise.Option>
---@param path string
local function check(value, options, path)
  local keys = vim.tbl_keys(value)
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  for _, key in ipairs(keys) do
    local where = path == '' and tostring(key) or (path .. '.' .. tostring(key))
    local option = options[key]
    if REMOVED[where] then
      vim.notify(('edgewise.setup: option %s is no longer used: %s'):format(where, REMOVED[where]), vim.log.levels.WARN)
      value[key] = nil
    elseif option == nil then
      local hint = type(key) == 'string' and suggest(key, options) or nil
      error(
        ('edgewise.setup: unknown option %s%s'):format(
          where,
          hint and (' (did you mean %s?)'):format(path == '' and hint or (path .. '.' .. hint)) or ''
        ),
        0
      )
    else
      local kind = KINDS[option.kind]
      if not kind.valid(value[key]) then
        error(('edgewise.setup: option %s must be %s, got %s'):format(where, kind.what, vim.inspect(value[key])), 0)
      end
      if option.options then
        check(value[key], option.options, where)
      end
    end
  end
end

---@param options table<string, edgewise.Option>
---@return table
local function defaults_of(options)
  local out = {}
  for key, option in pairs(options) do
    if option.options then
      out[key] = defaults_of(option.options)
    elseif option.default ~= nil then
      out[key] = vim.deepcopy(option.default)
    end
  end
  return out
end

--- The plugin's defaults. Server settings default to {} (the server knows its defaults).
---@return edgewise.Options
function M.defaults()
  return defaults_of(M.options)
end

--- The server settings' defaults, as in schemas/config.schema.json.
---@param definitions? table<string, table>
---@return table<string, any>
function M.settings_defaults(definitions)
  local out = {}
  for key, definition in pairs(definitions or M.settings) do
    if definition.properties then
      out[key] = M.settings_defaults(definition.properties)
    else
      out[key] = vim.deepcopy(definition.default)
    end
  end
  return out
end

--- Check the user's options and merge them over the defaults. Raises an error that names
--- the wrong key (unknown keys get a "did you mean" hint). The server settings are not
--- checked here: the server reports each wrong key, and uses its default for it.
---@param opts? table
---@return edgewise.Options
function M.resolve(opts)
  if opts ~= nil and type(opts) ~= 'table' then
    error(('edgewise.setup: options must be a table, got %s'):format(type(opts)), 0)
  end
  opts = vim.deepcopy(opts or {})
  check(opts, M.options, '')
  return vim.tbl_deep_extend('force', M.defaults(), opts)
end

return M
