-- Dumps the plugin's Lua mirror of the settings schema and its option defaults as JSON.
--   nvim --headless --clean -l schema_driver.lua PLUGIN_DIR OUT.json
local plugin_dir, out = arg[1], arg[2]
vim.opt.rtp:prepend(plugin_dir)
local config = require('edgewise.config')
local f = assert(io.open(out, 'w'))
f:write(vim.json.encode({
  settings_schema = config.settings_schema,
  settings_defaults = config.settings_defaults(),
  defaults = config.defaults(),
}))
f:close()
