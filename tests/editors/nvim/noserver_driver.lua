-- The README's setup in a checkout with no server (no .venv, `edgewise` not on PATH), or
-- with a `cmd` that is no executable: opening files edgewise would serve says so once,
-- with vim.notify, and starts nothing.
--
--   EDGEWISE_TEST=config.json nvim --headless --clean -u noserver_driver.lua
local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/harness.lua')
local cfg = h.cfg
vim.opt.rtp:append(cfg.plugin_dir)
vim.o.swapfile = false
h.record_notify()

h.run(function()
  local edgewise = require('edgewise')
  edgewise.setup({ settings = cfg.settings, cmd = cfg.cmd })
  h.step('located', edgewise.state.located or false)
  h.step('after_setup', vim.deepcopy(h.result.notifications))
  for _, file in ipairs(cfg.files) do
    vim.cmd.edit(file)
    h.sleep(300)
  end
  h.step('clients', #vim.lsp.get_clients())
  h.step(
    'filetypes',
    vim.tbl_map(function(b)
      return vim.bo[b].filetype
    end, vim.api.nvim_list_bufs())
  )
  h.finish(0)
end)
