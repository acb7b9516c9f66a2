-- What the Neovim drivers share: the test's config (EDGEWISE_TEST), a main function run
-- in a coroutine after VimEnter (so that it can sleep while Neovim's loop runs), keys
-- typed through nvim_input, notifications recorded, and the result written as JSON for
-- tests/editors/test_nvim.py.
--
--   local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/harness.lua')
--   h.run(function() ... h.step('name', value) ... end)
local H = {}

H.cfg = vim.json.decode(assert(io.open(assert(os.getenv('EDGEWISE_TEST')))):read('*a'))
H.result = { nvim = tostring(vim.version()), steps = {}, notifications = {} }

local t0 = vim.uv.hrtime()
function H.ms()
  return math.floor((vim.uv.hrtime() - t0) / 1e6)
end

function H.finish(code)
  H.result.total_ms = H.ms()
  local f = assert(io.open(H.cfg.out, 'w'))
  f:write(vim.json.encode(H.result))
  f:close()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  vim.cmd(code == 0 and 'qa!' or 'cq!')
end

local notify = vim.notify
--- vim.notify, recorded (and shown as Neovim shows it)
function H.record_notify()
  vim.notify = function(msg, level, opts)
    table.insert(H.result.notifications, { message = msg, level = level })
    return notify(msg, level, opts)
  end
end

local co ---@type thread
function H.sleep(delay)
  vim.defer_fn(function()
    local ok, err = coroutine.resume(co)
    if not ok then
      H.result.error = debug.traceback(co, err)
      H.finish(1)
    end
  end, delay)
  coroutine.yield()
end

function H.wait_until(check, timeout)
  local deadline = H.ms() + (timeout or 30000)
  while true do
    local value = check()
    if value then
      return value
    end
    if H.ms() > deadline then
      return nil
    end
    H.sleep(20)
  end
end

function H.step(name, value)
  H.result.steps[name] = value
  H.result.steps[name .. '_ms'] = H.ms()
end

function H.expect(value, message)
  if not value then
    error(message, 2)
  end
  return value
end

function H.input(keys)
  vim.api.nvim_input(keys)
  H.sleep(30)
end

function H.mode()
  return vim.api.nvim_get_mode().mode
end

function H.buffer_text(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- Run `main` in a coroutine once Neovim has started; a watchdog ends a driver that hangs.
function H.run(main)
  vim.api.nvim_create_autocmd('VimEnter', {
    nested = true, -- :edit inside must fire FileType (and so start the client)
    callback = function()
      vim.defer_fn(function()
        H.result.error = 'watchdog: the driver did not finish in time'
        H.finish(1)
      end, H.cfg.timeout_ms or 240000)
      co = coroutine.create(function()
        local ok, err = xpcall(main, debug.traceback)
        if not ok then
          H.result.error = err
          H.finish(1)
        end
      end)
      local ok, err = coroutine.resume(co)
      if not ok then
        H.result.error = err
        H.finish(1)
      end
    end,
  })
end

return H
